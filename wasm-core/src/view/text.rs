//! Every word the extension's pages show, in Chinese (the default) and English: one table.
//!
//! The pages never hold a string literal a user reads; they ask this table. The three strings
//! Chrome itself shows (the extension's name, description and toolbar title) must also live in
//! `extension/_locales/<lang>/messages.json`, because the manifest can only name those through
//! `__MSG_…__`; a test checks both files against this table, so the table stays the one source.
//!
//! Labels the domain already defines in Chinese (task states, roles, log tags in
//! [`crate::task`], [`crate::checkpoint`]) come from there for Chinese; this module adds their
//! English. Words that come from the portal (status names, customs offices, goods names) are
//! data and are never translated.

use std::fmt::Display;

/// The pages' language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 中文 (简体): the default, whatever the browser's language.
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The stored choice (`zh` / `en`); anything else is Chinese.
    pub fn from_code(code: &str) -> Lang {
        if code.eq_ignore_ascii_case("en") || code.to_ascii_lowercase().starts_with("en-") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// `<html lang>`.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The `_locales` folder of this language.
    pub fn locale_dir(self) -> &'static str {
        match self {
            Lang::Zh => "zh_CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

macro_rules! texts {
    ($( $key:ident = $zh:literal, $en:literal; )*) => {
        /// A text of the pages. `{0}`, `{1}` … are filled by [`T::fill`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum T {
            $( $key, )*
        }

        impl T {
            pub const ALL: &'static [T] = &[$(T::$key),*];

            pub fn get(self, lang: Lang) -> &'static str {
                match lang {
                    Lang::Zh => match self { $(T::$key => $zh,)* },
                    Lang::En => match self { $(T::$key => $en,)* },
                }
            }
        }
    };
}

impl T {
    /// The text with `{0}`, `{1}` … replaced by `args`.
    pub fn fill(self, lang: Lang, args: &[&dyn Display]) -> String {
        fill(self.get(lang), args)
    }
}

/// Replaces `{n}` in `template` by `args[n]`.
pub fn fill(template: &str, args: &[&dyn Display]) -> String {
    let mut out = template.to_owned();
    for (i, arg) in args.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), &arg.to_string());
    }
    out
}

texts! {
    // ── Chrome's own UI (also in _locales/*/messages.json) ──
    AppName = "DataLink 单一窗口数据协同", "DataLink Single Window Data Sync";
    AppDescription = "从国际贸易“单一窗口”静默、完整地协同本企业报关单与备案清单，逐月核销，断点续查。",
        "Pulls your company's customs declarations from China's Single Window: complete, reconciled month by month, resumable.";
    ActionTitle = "DataLink 数据协同", "DataLink data sync";

    // ── The shell ──
    Platform = "数据协同平台", "Data Sync Platform";
    NavHome = "首页", "Home";
    NavData = "数据协同", "Data sync";
    NavSync = "报关单协同", "Declaration sync";
    NavRecords = "协同记录", "Sync records";
    NavReport = "数据验证报告", "Verification reports";
    SwitchLanguage = "English", "中文";
    EnterpriseActive = "当前企业", "Enterprise";
    EnterpriseCreditCode = "统一社会信用代码", "Credit code";
    Loading = "载入中，请稍候...", "Loading…";
    Back = "返回", "Back";
    Dash = "--", "--";
    NotFound = "页面不存在", "Page not found";

    // ── 首页 ──
    Welcome = "欢迎使用数据协同平台", "Welcome to the DataLink data sync platform";
    HomeLoginTitle = "系统登录", "Log in";
    HomeLoginText = "在浏览器中打开单一窗口，使用企业“单一窗口”IC卡介质登录，并保持登录状态",
        "Open the Single Window in this browser and log in with the company's IC card; stay logged in";
    HomeClientTitle = "客户端部署", "Install the client";
    HomeClientText = "安装协同客户端（负责IC卡与本地数据库），在“报关单协同”页点击“连接协同服务”进行连接测试",
        "Install the DataLink client (IC card and local database), then press “Connect” on the declaration sync page to test it";
    HomeSyncTitle = "数据协同", "Sync";
    HomeSyncText = "选择查询条件（类型、时间、状态等），点击“启动协同服务”；协同在后台运行，可关闭页面或最小化窗口",
        "Choose the conditions (type, time span, status…) and press “Start”; the sync runs in the background, you may close the page";
    HomeReportTitle = "报告核验", "Check the result";
    HomeReportText = "在“协同记录”确认查询数、命中数、核销数一致、状态为“执行完毕”即为成功，可导出报关单",
        "In “Sync records”, a task succeeded when queried, hit and reconciled agree and it is “Completed”; export the declarations";
    HomeStart = "开始协同", "Start a sync";

    // ── 数据验证报告 (issue #7; view::report) ──
    ReportsOnOffer = "可出具的报告", "Reports on offer";
    ReportTradeCert = "进出口贸易额证明", "Import and export trade value certificate";
    ReportTradeCertDesc = "按已核销的报关单（含备案清单）统计所选月份结关的进出口贸易额，出具加盖印章、带水印和核验码的 PDF 证明",
        "The trade value of the declarations (filing lists included) closed in the chosen months, from reconciled data: a PDF with seal, watermark and verification code";
    ReportCoverage = "数据协同核验表", "Sync verification table";
    ReportCoverageDesc = "逐月列出查询数、命中数、核销数，以及完成核销的协同任务", "Per month: queried, hit and reconciled, and the task that reconciled it";
    ReportMonthly = "月度贸易汇总", "Monthly trade summary";
    ReportMonthlyDesc = "每月进口、出口金额（折人民币、折美元）及各币制原币金额，附图表", "Import and export per month (in RMB and USD) and per currency, with a chart";
    DeclareInfo = "申报信息", "Application details";
    FieldProject = "申请项目", "Project applied for";
    PhProject = "请输入申请项目", "Project applied for";
    FieldDepartment = "申报部门", "Receiving department";
    PhDepartment = "请输入申报部门", "Department that receives the report";
    FieldRange = "时间范围", "Period";
    PhMonth = "YYYYMM", "YYYYMM";
    Confirm = "确认", "Confirm";
    Query = "查询", "Query";
    NoteTitle = "注意：", "Note:";
    NoteRange = "时间范围：必须选择已完成协同操作的时间范围，且不可跨年", "Period: only months whose sync is complete, within one calendar year";
    NoteDepartment = "申报部门：为接收该报告的部门，非进行项目申请的单位", "Receiving department: the department that receives the report, not the company applying";
    NoteWatermark = "验证报告的抬头和水印由填写的申请项目、申报部门生成，请认真填写并核对；填写有误，验证报告即随之有误。",
        "The report's addressee and watermark are made from the project and department you enter: check them carefully, a typo ends up in the report.";
    NoteComplete = "验证报告数据依据本地数据库中已协同、已核销的报关单数据生成。请确认时间范围内的每个月都已完整协同（一般报关单与备案清单、进出口、结关、报关收发货人，查询数、命中数、核销数一致）；数据不完整，验证报告就不正确，请先前往“报关单协同”补全。",
        "The report is computed from the declarations synced and reconciled in the local database. Make sure every month of the period was synced completely (both types, import and export, closed, as consignee/consignor, with equal counts): incomplete data gives a wrong report, so complete it on the declaration sync page first.";
    ErrProjectMissing = "请输入申请项目", "Enter the project applied for";
    ErrDepartmentMissing = "请输入申报部门", "Enter the receiving department";
    ErrTextTooLong = "申请项目、申报部门各不超过 {0} 个字", "Project and department have at most {0} characters each";
    ErrMonthFormat = "时间范围应为 YYYYMM，例如 202501", "Months are YYYYMM, e.g. 202501";
    ErrMonthReversed = "开始月份不能晚于结束月份", "The first month is after the last";
    ErrCrossYear = "时间范围不可跨年：请分别出具各年度的证明", "The period must stay within one calendar year: ask for one certificate per year";
    Checking = "正在核验数据协同情况…", "Checking which months are synced…";
    Computing = "正在统计贸易额…", "Computing the trade value…";
    GapsTitle = "以下月份尚未完成数据协同，暂不能出具证明：", "These months are not completely synced yet, so no certificate can be made:";
    GapsHint = "证明要求每个月都有一次执行完毕的协同（一般报关单与备案清单、进出口、结关、报关收发货人）。点击“去协同”打开已填好时间范围和条件的报关单协同，完成后回到本页重新点击“确认”。",
        "A certificate needs every month covered by a completed sync (both types, import and export, closed, as consignee/consignor). “Sync these months” opens the declaration sync with the range and conditions filled in; come back and press “Confirm” when it is done.";
    GapsFuture = "所缺月份尚未开始，暂不能协同；请调整时间范围。", "The missing months have not begun yet: change the period.";
    GoSync = "去协同", "Sync these months";
    GapNotSynced = "未协同", "Not synced";
    CoverageOk = "完整", "Complete";
    ColMonth = "月份", "Month";
    ColCoverageTask = "协同任务", "Task";
    ColCoverageResult = "核验结果", "Result";
    SyncForReport = "已按数据验证报告所缺月份填好时间范围和条件（一般报关单与备案清单、报关收发货人、进出口、结关），请连接协同服务后启动。",
        "The range and conditions the verification report needs are filled in (both types, consignee/consignor, import and export, closed): connect and start.";
    FactCompany = "企业名称", "Company";
    FactCreditCode = "统一社会信用代码", "Unified social credit code";
    FactDeclarations = "报关单（含备案清单）", "Declarations (filing lists included)";
    FactPeriod = "时间范围", "Period";
    WarningsTitle = "出具前请注意", "Before you print";
    CertPreview = "证明预览", "Certificate preview";
    VerificationCode = "核验码：{0}", "Verification code: {0}";
    PdfDownload = "PDF 下载", "Download PDF";
    PdfPrint = "PDF 打印", "Print PDF";
    SignWithCard = "使用IC卡签名", "Sign with the IC card";
    SignHint = "用IC卡对核验码签名，签名与证明编号写入 PDF；口令只用于本次签名，不保存、不显示", "The IC card signs the verification code; the signature and the certificate number go into the PDF. The PIN is used for this signature only, never stored or shown";
    Making = "正在生成 PDF…", "Making the PDF…";
    Made = "已生成证明 {0}：{1}（{2}）", "Certificate {0} made: {1} ({2})";
    MadeSigned = "，已用IC卡签名", ", signed with the IC card";
    PrintOpened = "已在新标签页打开 PDF，请在其中打印", "The PDF is open in a new tab: print it there";
    ReportSettings = "证明设置", "Certificate settings";
    FieldIssuer = "出具单位名称", "Issuer";
    FieldSealCaption = "印章文字", "Seal caption";
    FieldCompanyOverride = "企业名称", "Company name";
    FieldCreditCode = "统一社会信用代码", "Unified social credit code";
    SettingsHint = "留空即使用默认值：企业名称与统一社会信用代码取自报关单；保存后重新生成的预览与 PDF 即采用新设置",
        "Leave empty for the defaults (company name and credit code come from the declarations); the preview and PDF use the new settings once saved";
    SaveSettings = "保存设置", "Save settings";
    SettingsSaved = "设置已保存", "Settings saved";
    ErrCreditCode = "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）", "A unified social credit code has 18 digits or capital letters (no I, O, Z, S, V)";
    ErrSettingTooLong = "每项设置不超过 60 个字", "Each setting has at most 60 characters";
    ColImportCount = "进口票数", "Imports";
    ColExportCount = "出口票数", "Exports";
    ColImportRmb = "进口（折人民币）", "Import (RMB)";
    ColExportRmb = "出口（折人民币）", "Export (RMB)";
    ColImportUsd = "进口（折美元）", "Import (USD)";
    ColExportUsd = "出口（折美元）", "Export (USD)";
    ColCurrency = "币制", "Currency";
    ColImport = "进口", "Import";
    ColExport = "出口", "Export";
    TotalRow = "合计", "Total";
    CurrencyTitle = "各币制原币金额", "Original amounts per currency";
    ChartTitle = "每月进出口额（折人民币）", "Import and export per month (RMB)";
    ChartUnit = "人民币（元）", "RMB (yuan)";
    Rmb = "人民币", "RMB";
    MonthNames = "1月,2月,3月,4月,5月,6月,7月,8月,9月,10月,11月,12月", "Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec";

    // ── 报关单协同: connection and steps ──
    DownloadClient = "下载客户端", "Get the client";
    InstallHelp = "安装协同客户端：在下载的 DataLink 文件夹中运行安装脚本（Windows：右键 install.ps1，选择“使用 PowerShell 运行”；Linux、macOS：sh install.sh），它会把协同客户端复制到固定位置并执行 datalink-host install；然后回到本页点击“连接协同服务”。仍然失败时，运行 datalink-host doctor，按它给出的方法处理。",
        "Install the DataLink client: in the downloaded DataLink folder run the install script (Windows: right-click install.ps1, “Run with PowerShell”; Linux, macOS: sh install.sh), which copies the client to a fixed place and runs datalink-host install; then press “Connect” here. If it still fails, run datalink-host doctor and follow its fixes.";
    HostNotConnected = "协同服务未建立连接", "Not connected to the DataLink client";
    HostConnected = "协同服务已连接（协同客户端 {0}）", "Connected (DataLink client {0})";
    HostConnectedPlain = "协同服务已连接", "Connected";
    Connect = "连接协同服务", "Connect";
    Connecting = "正在连接…", "Connecting…";
    StepWaiting = "等待连接", "Waiting to connect";
    StepConnected = "连接成功", "Connected";
    StepEnv = "环境检测通过", "Environment checked";
    StepEnvFailed = "环境检测未通过", "Environment check failed";
    StepPending = "待执行", "Ready";
    StepRunning = "执行中…", "Running…";
    StepDone = "执行完成", "Finished";
    StepFailed = "执行异常", "Finished with problems";
    StepCancelled = "已取消", "Cancelled";

    // ── 报关单协同: the form ──
    FieldTypes = "报关单类型", "Declaration type";
    TypeGeneral = "一般报关单", "Customs declarations";
    TypeFiling = "备案清单", "Filing lists (bonded)";
    TypeBoth = "两者", "Both";
    TypesAdvice = "不涉及保税业务的企业只需选择“一般报关单”，只涉及保税业务的企业需选择“备案清单”；建议选择“两者”，一次协同一般报关单与备案清单，确保数据完整。",
        "Companies without bonded business need only customs declarations, bonded-only companies need filing lists; choose “Both” to get everything in one task.";
    FieldRole = "企业类别", "Enterprise role";
    FieldDirections = "进出口标志", "Direction";
    DirBoth = "进出口", "Import and export";
    DirImport = "进口", "Import";
    DirExport = "出口", "Export";
    FieldStatus = "报关状态", "Customs status";
    StatusClosed = "结关", "Closed";
    StatusNotClosed = "非结关", "Not closed";
    StatusAll = "全部", "All";
    FieldCusCiqNo = "统一编号", "Unified number";
    FieldEntryId = "报关单号", "Entry number";
    FieldBillNo = "提运单号", "Bill of lading";
    PhCusCiqNo = "请输入统一编号", "Unified number";
    PhEntryId = "请输入报关单号", "Entry number";
    PhBillNo = "请输入提运单号", "Bill of lading number";
    LookupHint = "按单号协同时填写其中一项；按时间跨度协同则无需填写", "Fill one of these to sync a single declaration; leave empty to sync the time span";
    FieldPin = "中国电子口岸卡介质口令", "IC card PIN";
    PhPin = "卡介质口令", "Card PIN";
    PinHint = "选填：填写后启动前先在IC卡上校验口令，单一窗口登录失效时自动以卡介质重新登录；不保存、不显示",
        "Optional: checked on the IC card before the task starts, and used to log in again with the card if the portal session expires; never stored or shown";
    ConfirmLastTry = "确认口令无误，提交", "The PIN is right: submit it";
    FieldSpan = "时间跨度", "Time span";
    SpanThreeYears = "过去3年", "Past 3 years";
    SpanOneYear = "过去1年", "Past year";
    SpanCustom = "自定义", "Custom";
    FieldFirst = "开始日期", "Start date";
    FieldLast = "结束日期", "End date";
    Settings = "设置", "Settings";
    FieldPortal = "单一窗口地址", "Single Window address";
    PortalHint = "默认 https://swapp.singlewindow.cn；使用省级单一窗口时改为其地址", "Default https://swapp.singlewindow.cn; change it for a provincial Single Window";
    FieldConcurrency = "并发请求数", "Requests in parallel";
    FieldRate = "每秒最多请求数", "Requests per second at most";
    Start = "启动协同服务", "Start";
    Cancel = "取消执行", "Cancel";
    Reset = "重置", "Reset";
    Required = "必填", "required";
    BackgroundNote = "注意：任务在后台执行，可关闭本页面或最小化窗口，重新打开本页即可查看进度；请勿退出浏览器。",
        "The task runs in the background: you may close this page or minimise the window and come back to see its progress. Do not quit the browser.";

    // ── 报关单协同: 自动协同 (view/schedule.rs) ──
    ScheduleTitle = "自动协同", "Automatic sync";
    FieldRepeat = "执行频率", "Repeat";
    RepeatOff = "关闭", "Off";
    RepeatDaily = "每天", "Daily";
    RepeatWeekly = "每周", "Weekly";
    FieldWeekday = "星期", "Weekday";
    FieldTime = "执行时间", "Time";
    FieldMonths = "协同月数", "Months";
    ScheduleHint = "按设定时间在后台增量协同最近几个月（含本月）的结关报关单（两类、进出口、报关收发货人），只获取有变化的报关单；需保持单一窗口登录，未登录时将弹出通知提醒。不保存卡介质口令。",
        "Syncs the recent months (this one included) in the background at the chosen time, fetching only what changed (closed declarations, both types and directions, as consignee). Stay logged in to the Single Window; otherwise a notification asks you to log in. The card PIN is never stored.";
    ScheduleSave = "保存自动协同", "Save automatic sync";
    ScheduleSaved = "已保存：{0}", "Saved: {0}";
    ScheduleOffText = "自动协同已关闭", "Automatic sync is off";
    ScheduleDailyText = "每天 {0} 协同最近 {1} 个月", "daily at {0}, the last {1} months";
    ScheduleWeeklyText = "每周{0} {1} 协同最近 {2} 个月", "every {0} at {1}, the last {2} months";
    Weekday1 = "一", "Monday";
    Weekday2 = "二", "Tuesday";
    Weekday3 = "三", "Wednesday";
    Weekday4 = "四", "Thursday";
    Weekday5 = "五", "Friday";
    Weekday6 = "六", "Saturday";
    Weekday7 = "日", "Sunday";

    // ── 报关单协同: progress and log ──
    ProgressTitle = "执行进度", "Progress";
    ProgressCounts = "已核销 {0} / 已命中 {1} 票 · 查询区间 {2}/{3} · 请求 {4} 次", "{0} reconciled of {1} found · windows {2}/{3} · {4} requests";
    TimeLeft = "预计剩余 {0}", "About {0} left";
    TimeLeftUnknown = "正在估算剩余时间…", "Estimating the time left…";
    Paused = "单一窗口登录已失效，任务已暂停：请在单一窗口以卡介质重新登录，任务将自动继续。", "The portal session expired and the task is paused: log in to the Single Window again with the card and it goes on by itself.";
    OpenPortal = "打开单一窗口登录", "Open the portal login";
    LogTitle = "执行日志", "Execution log";
    LogEmpty = "暂无执行日志", "No log yet";
    TaskNumberIs = "任务编号：{0}", "Task {0}";
    Finished = "任务{0}：查询数 {1}，命中数 {2}，核销数 {3}", "Task {0}: queried {1}, hit {2}, reconciled {3}";
    OpenDetail = "查看详情", "Open the details";
    PickedUp = "已接续正在执行的任务 {0}", "Showing the running task {0}";

    // Log lines the page itself writes (the seed's 连接 lines).
    LogEnvStart = "开始环境检测...", "Checking the environment...";
    LogHostOk = "协同客户端连接成功", "DataLink client connected";
    LogUser = "协同客户端连接成功，用户名：{0}", "DataLink client connected, user: {0}";
    LogEnvOk = "客户端环境检测通过", "Environment check passed";
    LogCard = "IC卡：{0}", "IC card: {0}";
    LogCardMissing = "未检测到可用的IC卡：{0}（不影响按已登录的单一窗口会话协同）", "No usable IC card: {0} (the sync uses the logged-in portal session)";
    LogHostVersion = "协同客户端版本 {0}，协议 {1}", "Client version {0}, protocol {1}";

    // ── Form errors ──
    ErrFirstMissing = "请选择开始日期", "Choose a start date";
    ErrLastMissing = "请选择结束日期", "Choose an end date";
    ErrDate = "日期格式应为 YYYY-MM-DD", "Dates are YYYY-MM-DD";
    ErrReversed = "结束日期不能早于开始日期", "The end date is before the start date";
    ErrFuture = "结束日期不能晚于今天", "The end date is after today";
    ErrLookupMany = "统一编号、报关单号、提运单号只能填写一项", "Fill only one of unified number, entry number and bill of lading";
    ErrCusCiqNo = "统一编号应为 18 位：进出口标志字母 I/E 加 17 位数字", "A unified number is I or E followed by 17 digits";
    ErrEntryId = "报关单号应为 18 位数字", "An entry number has 18 digits";
    ErrBillNo = "提运单号应为 1–64 位字母、数字或符号，不含空格", "A bill of lading number has 1–64 letters, digits or signs, no spaces";
    ErrPin = "卡介质口令应为 6–16 位英文字母或数字", "The card PIN has 6–16 letters or digits";
    ErrPortal = "单一窗口地址应以 https:// 开头（本机测试可用 http://127.0.0.1）", "The address starts with https:// (http://127.0.0.1 for local tests)";
    ErrNumber = "请输入 1–{0} 之间的整数", "Enter a whole number from 1 to {0}";
    ErrRangeMissing = "请选择导出的开始日期和结束日期", "Choose the export's start and end dates";

    // ── Clear states: what happened and what to do next (see view::advice) ──
    NextStep = "下一步：", "Next: ";
    ErrorCode = "错误码 {0}", "error {0}";
    AdvHostMissing = "未检测到协同客户端", "The DataLink client is not installed";
    AdvHostLost = "与协同客户端的连接中断", "The connection to the DataLink client broke";
    AdvHostLostNext = "请稍候再试；若反复出现，请重新启动浏览器。", "Try again in a moment; if it keeps happening, restart the browser.";
    AdvVersion = "协同客户端版本过旧", "The DataLink client is too old";
    AdvVersionNext = "请将协同客户端更新到与浏览器扩展相同的版本（{0}），然后点击“连接协同服务”。", "Update the DataLink client to the extension's version ({0}), then press “Connect”.";
    AdvVersionOlder = "协同客户端版本（{0}）低于浏览器扩展（{1}）", "The DataLink client ({0}) is older than the extension ({1})";
    AdvExtensionOld = "浏览器扩展版本过旧", "The extension is too old";
    AdvExtensionOldNext = "协同客户端比本扩展（{0}）新，已不支持它：请更新浏览器扩展（商店安装的会自动更新；开发者模式加载的，请加载新版后在扩展管理页点击“重新加载”），或安装与扩展同版本的协同客户端。",
        "The DataLink client is newer than this extension ({0}) and no longer supports it: update the extension (store installs update themselves; for an unpacked one, load the new version and press “Reload” on the extensions page), or install the client of the extension's version.";
    AdvPortalLogin = "单一窗口未登录", "Not logged in to the Single Window";
    AdvPortalLoginNext = "请点击“打开单一窗口登录”，使用卡介质登录后回到本页，再点击“启动协同服务”。", "Press “Open the portal login”, log in with the card, come back and press “Start”.";
    AdvPortalDown = "无法连接单一窗口", "The Single Window cannot be reached";
    AdvPortalDownNext = "请检查网络，以及“设置”中的单一窗口地址是否正确。", "Check the network and the Single Window address in Settings.";
    AdvCard = "IC卡或读卡器未就绪", "The IC card or reader is not ready";
    AdvCardNext = "请插入中国电子口岸IC卡、连接读卡器并启动电子口岸客户端，然后点击“连接协同服务”重新检测。", "Insert the E-Port IC card, connect the reader and start the E-Port client, then press “Connect” to check again.";
    AdvPin = "卡介质口令有误", "The card PIN was refused";
    AdvPinNext = "请核对口令后重新输入；多次输错IC卡将被锁定。", "Check the PIN and type it again; too many wrong PINs lock the card.";
    AdvLastTry = "IC卡口令只剩最后一次尝试机会", "One PIN try left";
    AdvLastTryNext = "请确认口令无误；再输错一次IC卡将被锁定。", "Make sure the PIN is right: one more wrong PIN locks the card.";
    AdvCardLocked = "IC卡已锁定", "The IC card is locked";
    AdvCardLockedNext = "请联系中国电子口岸制卡中心（IC卡服务网点）解锁，请勿再次尝试。", "Ask the E-Port card centre to unlock it; do not try again.";
    AdvStore = "本地数据库异常", "The local database has a problem";
    AdvStoreNext = "请检查协同客户端数据目录的权限和磁盘空间；若无法解决，请将日志发送给技术支持。", "Check the client's data folder (permissions, disk space); if that does not help, send the log to support.";
    AdvRunning = "已有任务正在执行", "A task is already running";
    AdvRunningNext = "请在本页查看进度，或先点击“取消执行”。", "Watch its progress here, or cancel it first.";
    AdvConditions = "查询条件不正确", "The conditions are not valid";
    AdvConditionsNext = "请检查时间跨度和单号后重试。", "Check the time span and numbers and try again.";
    AdvNoTask = "当前没有正在执行的任务", "No task is running";
    AdvNotFound = "未找到该协同任务", "No such task";
    AdvNotFoundNext = "请回到“协同记录”重新选择。", "Go back to “Sync records” and choose again.";
    AdvReportForm = "申报信息不正确", "The application details are not valid";
    AdvReportFormNext = "请检查申请项目、申报部门和时间范围（YYYYMM，不可跨年）后重新点击“确认”。", "Check the project, the department and the period (YYYYMM, one calendar year), then press “Confirm” again.";
    AdvNotSynced = "所选月份尚未完成数据协同", "Some months are not synced yet";
    AdvNotSyncedNext = "请点击“去协同”补齐这些月份，完成后回到本页重新点击“确认”。", "Press “Sync these months”, then come back and press “Confirm” again.";
    AdvRates = "缺少汇率", "An exchange rate is missing";
    AdvRatesNext = "请在命令行运行 datalink-host rates import 汇率表.csv，导入所缺月份和币制的汇率（每行注明来源），然后重新点击“确认”。", "Run datalink-host rates import RATES.csv with the missing month and currency (each line naming its source), then press “Confirm” again.";
    AdvHolidays = "缺少节假日数据", "The holiday calendar is missing a year";
    AdvHolidaysNext = "请更新协同客户端，或用 datalink-host rates import 导入节假日表后重试。", "Update the DataLink client, or import a holiday table with datalink-host rates import, and try again.";
    AdvDeclarationValue = "报关单金额无法识别", "A declaration's amount cannot be read";
    AdvDeclarationValueNext = "请重新协同该报关单所在月份后重试。", "Sync that declaration's month again and retry.";
    AdvFont = "缺少中文字体", "No Chinese font";
    AdvFontNext = "请安装 Noto CJK 中文字体（Debian / Ubuntu：sudo apt install fonts-noto-cjk），然后重新生成 PDF。", "Install the Noto CJK fonts (Debian / Ubuntu: sudo apt install fonts-noto-cjk), then make the PDF again.";
    AdvDataFile = "导入文件格式不正确", "The imported file is not in the expected format";
    AdvDataFileNext = "请按模板填写后重新导入。", "Fill it in as the template shows and import it again.";
    AdvGeneric = "操作未成功", "That did not work";
    AdvGenericNext = "请稍后重试；若反复出现，请将错误码告知技术支持。", "Try again later; if it keeps happening, tell support the error number.";

    // ── 协同记录 ──
    PhOperator = "请输入用户名", "User name";
    FilterTime = "操作时间", "Created";
    PhStartTime = "开始时间", "From";
    PhEndTime = "结束时间", "To";
    FilterDirections = "进出口", "Direction";
    FilterState = "状态", "State";
    All = "全部", "All";
    Search = "搜索", "Search";
    New = "+ 新增", "+ New";
    VerifyReport = "企业验证报告", "Verification report";
    ColIndex = "#", "#";
    ColTask = "任务编号", "Task";
    ColOperator = "用户名", "User";
    ColFirst = "操作开始时间", "From";
    ColLast = "操作结束时间", "To";
    ColRole = "企业类别", "Role";
    ColDirections = "进出口", "Direction";
    ColStatus = "报关状态", "Customs status";
    ColQueried = "查询数", "Queried";
    ColHit = "命中数", "Hit";
    ColReconciled = "核销数", "Reconciled";
    ColState = "状态", "State";
    ColActions = "操作", "Actions";
    View = "查看", "View";
    Detail = "详情", "Details";
    RecordsNote = "注意：仅当查询数、命中数、核销数全部一致时，代表该协同任务执行成功！", "A task succeeded only when queried, hit and reconciled agree.";
    RecordsNoteMarked = "三个数字不一致的任务以红色标出，可点击“查看”断点续查，只补采缺口。", "Tasks whose counts disagree are marked red; open “View” to resume only the gaps.";
    Disagree = "不一致", "disagree";
    Total = "共 {0} 条", "{0} in all";
    PerPage = "{0} 条/页", "{0} / page";
    PrevPage = "上一页", "Previous";
    NextPage = "下一页", "Next";
    Empty = "暂无数据", "Nothing here yet";
    ExportTitle = "导出报关单", "Export declarations";
    ExportRangeHint = "按进出口日期导出本地数据库中的报关单（表头与商品明细）", "Exports the stored declarations whose import/export date is in the range (heads and goods lines)";
    ExportXlsx = "导出 Excel", "Export Excel";
    ExportCsv = "导出 CSV", "Export CSV";
    Exporting = "正在导出…", "Exporting…";
    Exported = "已导出 {0}：{1} 票报关单，{2} 条商品", "Exported {0}: {1} declarations, {2} goods lines";

    // Task states and log tags in English (Chinese comes from crate::task / crate::checkpoint).
    StatePending = "待执行", "Pending";
    StateRunning = "执行中", "Running";
    StateCompleted = "执行完毕", "Completed";
    StateFailed = "执行异常", "Failed";
    StateCancelled = "已取消", "Cancelled";
    TagConnect = "连接", "Connect";
    TagExecute = "执行", "Run";
    TagResult = "结果", "Result";
    TagError = "错误", "Error";
    RoleDeclarant = "报关申报单位", "Declaring agent";
    RoleOwner = "消费使用/生产销售单位", "Consumer / producer";
    RoleConsignee = "报关收发货人", "Consignee / consignor";
    RoleDataEntry = "报关录入单位", "Data entry agent";

    // ── 查看 ──
    TaskViewTitle = "协同任务查看", "Task";
    TaskState = "任务状态", "State";
    TaskMessage = "说明", "Note";
    TaskCreated = "创建时间", "Created";
    TaskStarted = "开始执行", "Started";
    TaskEnded = "结束时间", "Ended";
    Portal = "单一窗口", "Portal";
    ResumeGaps = "断点续查（仅补采缺口）", "Resume (only the gaps)";
    ResumeHint = "只重新查询未完成的时间段、补采未核销的报关单；已核销的不会重复预览。", "Only unfinished time windows are listed again and only unreconciled declarations fetched; reconciled ones are not fetched again.";
    Resumed = "已开始断点续查，进度见“报关单协同”。", "Resumed: follow it on the declaration sync page.";
    MissingTitle = "未核销报关单", "Unreconciled declarations";
    Reason = "原因", "Reason";
    PeriodCol = "时间段", "Period";

    // ── 详情 ──
    DetailTitle = "报关单协同详情", "Sync details";
    DetailSection = "协同详情", "Reconciliation";
    TotalQueried = "总查询数", "Queried";
    TotalHit = "总命中数", "Hit";
    TotalReconciled = "总核销数", "Reconciled";
    PeriodRange = "{0} 至 {1}", "{0} to {1}";
    Reconciled = "已核销", "Reconciled";
    Unreconciled = "未核销", "Not reconciled";
    ColIeDate = "进出口日期", "Date";
    ColSupvMode = "监管方式", "Trade mode";
    ColCustomMaster = "申报地海关", "Customs office";
    ColPort = "入境/离境口岸", "Port";
    ColInspection = "查验", "Inspected";
    Preview = "预览", "Preview";
    AllPeriods = "全部时间段", "All periods";
    ExportTask = "导出本任务：", "Export this task:";
    // Official documents (issue #10; `wasm/ui/documents.rs`).
    DocOption = "同时下载报关单打印件、回执和随附单证清单", "Also download the official prints, receipts and attached documents lists";
    DocPrints = "报关单打印件", "Official prints";
    DocCount = "（打印件 {0}/{1}）", " (prints {0}/{1})";
    DocZip = "下载报关单打印件（ZIP）", "Download the prints (ZIP)";
    DocZipMonth = "月份 YYYYMM（留空：整个任务）", "Month YYYYMM (blank: the whole task)";
    DocZipDone = "已导出 {0} 份报关单打印件", "{0} prints exported";
    DocFetch = "补采报关单打印件", "Fetch the prints";
    DocFetchStarted = "已开始补采，进度见报关单协同页", "Started: follow it on the sync page";
    DocReceipts = "回执", "Receipts";
    DocNoReceipts = "尚未下载回执", "No receipts downloaded yet";
    DocColTime = "时间", "Time";
    DocColChannel = "渠道", "Channel";
    DocColNote = "说明", "Note";
    DocOpenPdf = "打开报关单打印件", "Open the print";
    DocNoPdf = "尚未下载报关单打印件", "The print was not downloaded yet";

    // ── 预览 ──
    PreviewTitle = "报关单预览", "Declaration";
    FromStore = "内容来自本地数据库（{0} 保存），与单一窗口核销一致。", "From the local database (stored {0}).";
    NoDetail = "该报关单的详情尚未获取，以下仅为列表信息。", "This declaration's detail was not fetched yet; only its list row is shown.";
    GoodsTitle = "商品明细", "Goods";
    DocumentsTitle = "随附单证", "Documents";
}

/// 待执行 … 已取消.
pub fn state_label(state: crate::task::TaskState, lang: Lang) -> &'static str {
    use crate::task::TaskState::*;
    match lang {
        Lang::Zh => state.label(),
        Lang::En => match state {
            Pending => T::StatePending,
            Running => T::StateRunning,
            Completed => T::StateCompleted,
            Failed => T::StateFailed,
            Cancelled => T::StateCancelled,
        }
        .get(lang),
    }
}

/// 连接 / 执行 / 结果 / 错误.
pub fn category_label(category: crate::checkpoint::LogCategory, lang: Lang) -> &'static str {
    use crate::checkpoint::LogCategory::*;
    match lang {
        Lang::Zh => category.label(),
        Lang::En => match category {
            Connect => T::TagConnect,
            Execute => T::TagExecute,
            Result => T::TagResult,
            Error => T::TagError,
        }
        .get(lang),
    }
}

/// 企业类别.
pub fn role_label(role: crate::task::Role, lang: Lang) -> &'static str {
    use crate::task::Role::*;
    match lang {
        Lang::Zh => role.label(),
        Lang::En => match role {
            Declarant => T::RoleDeclarant,
            Owner => T::RoleOwner,
            Consignee => T::RoleConsignee,
            DataEntry => T::RoleDataEntry,
        }
        .get(lang),
    }
}

/// 进出口 / 进口 / 出口.
pub fn directions_label(choice: crate::task::DirectionChoice, lang: Lang) -> &'static str {
    use crate::task::DirectionChoice::*;
    match choice {
        Both => T::DirBoth,
        Import => T::DirImport,
        Export => T::DirExport,
    }
    .get(lang)
}

/// 结关 / 非结关 / 全部.
pub fn status_label(choice: crate::task::StatusChoice, lang: Lang) -> &'static str {
    use crate::task::StatusChoice::*;
    match choice {
        Closed => T::StatusClosed,
        NotClosed => T::StatusNotClosed,
        All => T::StatusAll,
    }
    .get(lang)
}

/// 一般报关单 / 备案清单 / both.
pub fn types_label(choice: crate::task::TypeChoice, lang: Lang) -> String {
    use crate::task::TypeChoice::*;
    match (choice, lang) {
        (Both, Lang::Zh) => "一般报关单、备案清单".to_owned(),
        (Both, Lang::En) => format!("{} + {}", T::TypeGeneral.get(lang), T::TypeFiling.get(lang)),
        (General, _) => T::TypeGeneral.get(lang).to_owned(),
        (Filing, _) => T::TypeFiling.get(lang).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_text_exists_in_both_languages_and_placeholders_match() {
        for &t in T::ALL {
            let (zh, en) = (t.get(Lang::Zh), t.get(Lang::En));
            assert!(!zh.is_empty() && !en.is_empty(), "{t:?}");
            for n in 0..6 {
                let p = format!("{{{n}}}");
                assert_eq!(zh.contains(&p), en.contains(&p), "{t:?}: placeholder {p} in one language only");
            }
        }
        assert_eq!(T::Total.fill(Lang::Zh, &[&28]), "共 28 条");
        assert_eq!(fill("{0}/{1}/{0}", &[&"a", &2]), "a/2/a");
    }

    #[test]
    fn chinese_is_the_default_and_english_is_chosen_explicitly() {
        assert_eq!(Lang::default(), Lang::Zh);
        assert_eq!(Lang::from_code("en"), Lang::En);
        assert_eq!(Lang::from_code("en-US"), Lang::En);
        assert_eq!(Lang::from_code("zh"), Lang::Zh);
        assert_eq!(Lang::from_code(""), Lang::Zh);
        assert_eq!(Lang::Zh.other(), Lang::En);
    }

    #[test]
    fn the_seed_words_are_kept() {
        // The screens users know (shared/seed/datalink-2.0-walkthrough.txt).
        let zh: HashSet<&str> = T::ALL.iter().map(|t| t.get(Lang::Zh)).collect();
        for word in [
            "报关单协同", "协同记录", "连接协同服务", "启动协同服务", "取消执行", "重置", "等待连接", "连接成功", "环境检测通过", "待执行",
            "执行中…", "执行完成", "执行日志", "暂无执行日志", "中国电子口岸卡介质口令", "过去3年", "过去1年", "自定义", "查询数", "命中数",
            "核销数", "总查询数", "总命中数", "总核销数", "预览", "已核销", "未核销", "入境/离境口岸", "申报地海关", "企业验证报告", "+ 新增",
            "协同服务未建立连接", "开始环境检测...", "协同客户端连接成功", "客户端环境检测通过",
            // 数据验证报告.
            "数据验证报告", "进出口贸易额证明", "数据协同核验表", "申报信息", "申请项目", "申报部门", "时间范围", "确认", "查询", "注意：",
        ] {
            assert!(zh.contains(word), "{word}");
        }
    }

    /// `extension/_locales/*/messages.json` must say what this table says.
    #[test]
    fn locales_match_the_table() {
        for (lang, file) in [
            (Lang::Zh, include_str!("../../../extension/_locales/zh_CN/messages.json")),
            (Lang::En, include_str!("../../../extension/_locales/en/messages.json")),
        ] {
            let json: serde_json::Value = serde_json::from_str(file).unwrap();
            for (key, t) in [("appName", T::AppName), ("appDescription", T::AppDescription), ("actionTitle", T::ActionTitle)] {
                assert_eq!(json[key]["message"].as_str(), Some(t.get(lang)), "{} {key}", lang.locale_dir());
            }
            assert!(T::AppDescription.get(lang).chars().count() <= 132, "Chrome limits descriptions to 132 characters");
        }
        let manifest: serde_json::Value = serde_json::from_str(include_str!("../../../extension/manifest.json")).unwrap();
        assert_eq!(manifest["default_locale"], "zh_CN");
        assert_eq!(manifest["name"], "__MSG_appName__");
    }
}
