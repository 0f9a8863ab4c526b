//! `datalink-host doctor`: what the browsers will find, the store's health, the card — and a
//! verdict with one fix per problem.
//!
//! For each browser of the table ([`super::table`]) it resolves the places the browser reads
//! (user first, then system — the browser's own order; on Windows through the registry key to the
//! manifest file) and inspects the first manifest found ([`super::manifest::inspect`]): its name,
//! whether `path` exists and is executable, `allowed_origins`. A browser that was found on the
//! machine but has no manifest is a problem; one that was not found is only listed. Then the
//! database ([`crate::store::default_path`], `PRAGMA integrity_check`, schema version, file
//! mode), then the card backends (the same environment check as `card status`).
//!
//! Problems make the exit status 1; the card's state is advice only (a card is needed when a
//! sync starts, not to install), so it never fails the verdict.
//!
//! [`diagnose`] builds a [`Report`] from an [`Env`] and paths, without printing, so the tests can
//! check the findings themselves.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::manifest::{self, Flaw, Inspection};
use super::table::{self, Env, Os, Scope, Target};
use super::{every_browser, registry};
use crate::store::{self, schema, StoreError};

/// One problem and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong (Chinese, may name the place: this is a report the user asked for).
    pub what: String,
    /// The fix, as a command or an action.
    pub fix: String,
}

/// The whole diagnosis: the resolved facts as lines, the problems, the advice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub lines: Vec<String>,
    pub problems: Vec<Problem>,
    /// Not failures (the card not ready yet, a sandboxed browser).
    pub advice: Vec<String>,
}

impl Report {
    fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    fn problem(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem {
            what: what.into(),
            fix: fix.into(),
        });
    }

    /// The report as printed.
    pub fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push_str("\n\n结论：");
        if self.problems.is_empty() {
            text.push_str("一切正常，浏览器可以启动协同客户端。\n");
        } else {
            text.push_str(&format!("发现 {} 个问题\n", self.problems.len()));
            for (i, p) in self.problems.iter().enumerate() {
                text.push_str(&format!("  {}. {}\n     解决：{}\n", i + 1, p.what, p.fix));
            }
        }
        if !self.advice.is_empty() {
            text.push_str("提示：\n");
            for a in &self.advice {
                text.push_str(&format!("  - {a}\n"));
            }
        }
        text
    }
}

/// What `doctor` looks at besides the environment.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// This program (manifests pointing elsewhere are noted).
    pub this_exe: Option<PathBuf>,
    /// The store's path, or why it has none.
    pub db: Result<PathBuf, StoreError>,
}

/// A manifest found for a browser: where, and how (a registry key on Windows).
struct Found {
    file: PathBuf,
    via: Option<String>,
    scope: Scope,
}

fn install_command(id: &str, scope: Scope) -> String {
    match scope {
        Scope::User => format!("datalink-host install --browser {id}"),
        Scope::System => format!("datalink-host install --browser {id} --system（需要管理员权限）"),
    }
}

/// The first manifest the browser would read at this target, user before system.
fn find(env: &Env, user: &Target, system: Option<&Target>) -> Option<Found> {
    let mut candidates = vec![(user, Scope::User)];
    if let Some(system) = system {
        candidates.push((system, Scope::System));
    }
    for (target, scope) in candidates {
        if env.os == Os::Windows {
            for key in &target.registry {
                if let Ok(Some(value)) = registry::read(key) {
                    return Some(Found {
                        file: PathBuf::from(value),
                        via: Some(key.to_string()),
                        scope,
                    });
                }
            }
        } else if target.manifest.exists() {
            return Some(Found {
                file: target.manifest.clone(),
                via: None,
                scope,
            });
        }
    }
    None
}

fn flaw_problem(label: &str, id: &str, scope: Scope, flaw: &Flaw, file: &Path) -> Problem {
    let reinstall = install_command(id, scope);
    let (what, fix) = match flaw {
        Flaw::Missing => (
            format!("注册指向的清单文件不存在：{}", file.display()),
            format!("运行 {reinstall}"),
        ),
        Flaw::Unreadable(kind) => (
            format!("清单文件无法读取（{kind:?}）：{}", file.display()),
            format!("检查该文件的权限（应为 644），或运行 {reinstall}"),
        ),
        Flaw::Invalid(at) => (
            format!("清单文件不是有效的 JSON（{at}）：{}", file.display()),
            format!("运行 {reinstall} 重新生成"),
        ),
        Flaw::WrongName(name) => (
            format!("清单的 name 是“{name}”，应为 cn.datalink.host"),
            format!("运行 {reinstall} 重新生成"),
        ),
        Flaw::WrongType(kind) => (
            format!("清单的 type 是“{kind}”，应为 stdio"),
            format!("运行 {reinstall} 重新生成"),
        ),
        Flaw::RelativePath(path) => (
            format!("清单中的程序路径“{path}”不是绝对路径"),
            format!("运行 {reinstall} 重新生成"),
        ),
        Flaw::HostMissing(path) => (
            format!(
                "清单指向的协同客户端程序不存在：{}（程序被移动或删除了）",
                path.display()
            ),
            format!("在协同客户端现在所在的位置运行 {reinstall}，或重新运行安装脚本"),
        ),
        Flaw::HostNotExecutable(path) => (
            format!("协同客户端程序没有执行权限：{}", path.display()),
            format!("运行 chmod +x {}，或重新运行安装脚本", path.display()),
        ),
        Flaw::WrongExtension(list) => (
            format!(
                "清单允许的扩展是 {list:?}，不是 DataLink 扩展（{}）",
                manifest::extension_origin()
            ),
            format!(
                "运行 {reinstall} 重新生成（DataLink 扩展的 ID 固定为 {}）",
                datalink_core::EXTENSION_ID
            ),
        ),
    };
    Problem {
        what: format!("{label}：{what}"),
        fix,
    }
}

/// Checks every browser's registration (see the module docs).
pub fn browsers(env: &Env, this_exe: Option<&Path>, report: &mut Report) {
    report.line("浏览器（清单位置；用户级优先于系统级）");
    let (users, systems) = match (
        table::targets(env, &every_browser(), Scope::User),
        table::targets(env, &every_browser(), Scope::System),
    ) {
        (Ok(u), Ok(s)) => (u, s),
        (Err(e), _) | (_, Err(e)) => {
            report.problem(
                e.to_string(),
                "在正常登录的用户会话中运行 datalink-host doctor",
            );
            return;
        }
    };
    let mut healthy = 0;
    let mut missing_reported = false;
    for user in &users {
        // The system-wide place of the browser's own package (sandboxes have none).
        let system = if user.sandbox.is_none() {
            systems.iter().find(|s| s.info.browser == user.info.browser)
        } else {
            None
        };
        let present = if env.os == Os::Windows {
            user.registry.iter().any(registry::vendor_present)
        } else {
            user.present
        };
        let id = user.info.id;
        let Some(found) = find(env, user, system) else {
            if present {
                missing_reported = true;
                report.line(format!(
                    "  ✗ {}：已检测到此浏览器，但未注册协同客户端",
                    user.label
                ));
                report.line(format!("      应在 {}", where_(user)));
                report.problem(
                    format!(
                        "{}：未注册协同客户端（浏览器会提示“未检测到协同客户端”）",
                        user.label
                    ),
                    format!(
                        "运行 {}，或重新运行安装脚本",
                        install_command(id, Scope::User)
                    ),
                );
            } else if user.sandbox.is_none() {
                // (A sandboxed package that is not there is not worth a line.)
                report.line(format!("  · {}：未检测到此浏览器，未注册", user.label));
            }
            continue;
        };
        let inspection: Inspection =
            manifest::inspect(&found.file, user.info.family, env.os == Os::Windows);
        let mark = if inspection.flaws.is_empty() {
            "✓"
        } else {
            "✗"
        };
        report.line(format!(
            "  {mark} {}（{}）",
            user.label,
            if found.scope == Scope::User {
                "用户级"
            } else {
                "系统级"
            }
        ));
        if let Some(key) = &found.via {
            report.line(format!("      注册表 {key}"));
        }
        report.line(format!("      清单 {}", found.file.display()));
        if let Some(m) = &inspection.manifest {
            report.line(format!("      name {}", m.name));
            let host = PathBuf::from(&m.path);
            let state = if inspection
                .flaws
                .iter()
                .any(|f| matches!(f, Flaw::HostMissing(_)))
            {
                "不存在"
            } else if inspection
                .flaws
                .iter()
                .any(|f| matches!(f, Flaw::HostNotExecutable(_)))
            {
                "存在，不可执行"
            } else if inspection
                .flaws
                .iter()
                .any(|f| matches!(f, Flaw::RelativePath(_)))
            {
                "相对路径"
            } else {
                "存在，可执行"
            };
            report.line(format!("      path {}（{state}）", m.path));
            let allowed = m
                .allowed_origins
                .as_ref()
                .or(m.allowed_extensions.as_ref())
                .cloned()
                .unwrap_or_default();
            report.line(format!(
                "      {} {}",
                if m.allowed_extensions.is_some() {
                    "allowed_extensions"
                } else {
                    "allowed_origins"
                },
                allowed.join(", ")
            ));
            if inspection.flaws.is_empty() {
                let same = this_exe
                    .is_some_and(|exe| host.canonicalize().is_ok_and(|h| super::plain(h) == exe));
                if !same {
                    report.advice.push(format!("{} 的清单指向另一个协同客户端程序（{}），不是正在运行的这个；如需改用这个，运行 {}", user.label, m.path, install_command(id, found.scope)));
                }
            }
        }
        for flaw in &inspection.flaws {
            report.problems.push(flaw_problem(
                &user.label,
                id,
                found.scope,
                flaw,
                &found.file,
            ));
        }
        if inspection.flaws.is_empty() {
            healthy += 1;
            if user.sandbox.is_some() {
                report.advice.push(format!("{} 运行在沙箱中，可能不允许启动外部程序；若扩展提示“未检测到协同客户端”，请改用发行版自带的浏览器软件包", user.label));
            }
            if !user.info.verified {
                report.advice.push(format!("{} 的清单位置按 Chromium 的规则推断，尚未在真实安装上核实；连接失败时请改用 Chrome 或 Edge", user.label));
            }
        }
    }
    if healthy == 0 && !missing_reported {
        report.problem("协同客户端尚未为任何浏览器注册", "运行安装脚本，或 datalink-host install --browser chrome（换成你使用的浏览器：chromium、edge、brave、360、firefox）");
    }
}

fn where_(target: &Target) -> String {
    match target.registry.first() {
        Some(key) => key.to_string(),
        None => target.manifest.display().to_string(),
    }
}

/// The store: where, whether it opens, its integrity and schema version, its file mode.
pub fn database(db: &Result<PathBuf, StoreError>, report: &mut Report) {
    report.line("");
    report.line("数据库");
    let path = match db {
        Ok(path) => path,
        Err(e) => {
            report.line("  ✗ 无法确定位置");
            report.problem(
                format!("无法确定本地数据库的位置：{}", e.to_info().message),
                "在正常登录的用户会话中运行（需要 HOME，Windows 需要 LOCALAPPDATA）",
            );
            return;
        }
    };
    report.line(format!("  位置 {}", path.display()));
    if !path.exists() {
        report.line("  尚未创建（第一次协同时自动创建）");
        return;
    }
    match schema::check(path) {
        Ok(check) => {
            report.line(format!(
                "  integrity_check {}，结构版本 {}（本程序为 {}），{}",
                check.integrity.join("; "),
                check.user_version,
                schema::VERSION,
                if check.ours {
                    "DataLink 数据库"
                } else {
                    "不是 DataLink 数据库"
                }
            ));
            if !check.ours {
                report.problem(
                    "数据库文件不是 DataLink 的数据库",
                    "检查环境变量 DATALINK_DB 是否指向了别的文件；删除该变量即使用默认位置",
                );
            } else if check.user_version > schema::VERSION {
                report.problem(
                    format!(
                        "数据库由更新版本的协同客户端创建（结构版本 {}，本程序只认识到 {}）",
                        check.user_version,
                        schema::VERSION
                    ),
                    "把协同客户端更新到与浏览器扩展相同的最新版本（重新运行新版安装脚本）",
                );
            } else if check.integrity != ["ok"] {
                report.problem(
                    "数据库已损坏（integrity_check 未通过）",
                    "关闭浏览器，从备份恢复（README“备份与恢复”），或把数据库与日志交给技术支持",
                );
            }
        }
        Err(e) => {
            let info = e.to_info();
            report.line(format!(
                "  ✗ 无法打开：{}（错误码 {}）",
                info.message, info.code
            ));
            report.problem(
                format!("数据库无法打开：{}", info.message),
                "关闭浏览器后重试；仍不行时从备份恢复（README“备份与恢复”）",
            );
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            report.line(format!("  权限 {mode:o}"));
            if mode & 0o077 != 0 {
                report.problem(
                    format!("数据库文件其他用户可以读取（权限 {mode:o}）"),
                    format!(
                        "运行 chmod 600 {}（协同客户端下次打开数据库时也会自动收紧）",
                        path.display()
                    ),
                );
            }
        }
    }
}

/// The card backends, as `card status` reports them; advice only.
pub fn card(report: &mut Report) {
    use crate::card::service::{now_unix, resolve, service};
    report.line("");
    report.line("IC卡");
    let settings = match resolve(&Default::default()) {
        Ok(settings) => settings,
        Err(e) => {
            let info = e.to_info();
            report.line(format!("  ✗ 设置有误：{}", info.message));
            report.problem(
                format!("IC卡设置有误：{}", info.message),
                "检查环境变量 DATALINK_CARD_BACKEND、DATALINK_EPORT_URL",
            );
            return;
        }
    };
    let status = service().status(&settings, now_unix());
    for line in crate::card::cli::human_status(&status).lines() {
        report.line(format!("  {line}"));
    }
    if !status.ready {
        let first = status
            .checks
            .iter()
            .find(|c| !c.ok)
            .and_then(|c| c.problem.as_ref())
            .map(|p| p.message.clone());
        report.advice.push(format!(
            "IC卡尚未就绪{}：开始协同前插入IC卡、启动中国电子口岸客户端（或连接 PC/SC 读卡器）；这不影响安装",
            first.map(|m| format!("（{m}）")).unwrap_or_default()
        ));
    }
}

/// The whole diagnosis, without printing.
pub fn diagnose(env: &Env, inputs: &Inputs, with_card: bool) -> Report {
    let mut report = Report::default();
    report.line(format!(
        "DataLink 协同客户端诊断（datalink-host {}，{} {}）",
        crate::VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH
    ));
    report.line(format!(
        "本程序 {}",
        inputs
            .this_exe
            .as_ref()
            .map_or_else(|| "（未知）".to_owned(), |p| p.display().to_string())
    ));
    report.line(format!("扩展 ID {}", datalink_core::EXTENSION_ID));
    report.line("");
    browsers(env, inputs.this_exe.as_deref(), &mut report);
    database(&inputs.db, &mut report);
    if with_card {
        card(&mut report);
    }
    report
}

/// `datalink-host doctor [--no-card]`
pub fn command(args: &[String]) -> ExitCode {
    let mut with_card = true;
    for arg in args {
        match arg.as_str() {
            "--no-card" => with_card = false,
            other => {
                let _ = std::io::Write::write_fmt(
                    &mut std::io::stderr(),
                    format_args!("unknown option {other:?}\n\n{}", crate::USAGE),
                );
                return ExitCode::from(2);
            }
        }
    }
    let inputs = Inputs {
        this_exe: super::own_path().ok(),
        db: store::default_path(),
    };
    let report = diagnose(&Env::from_process(), &inputs, with_card);
    super::out(&report.text());
    if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::table::Browser;
    use crate::install::{install_one, Selection};

    fn env_at(home: &Path) -> Env {
        Env {
            os: Os::Linux,
            home: Some(home.to_path_buf()),
            config_home: None,
            local_app_data: None,
            program_data: None,
        }
    }

    fn executable(dir: &Path) -> PathBuf {
        let host = dir.join("datalink-host");
        std::fs::write(&host, b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        host.canonicalize().unwrap()
    }

    fn only_browsers(env: &Env, exe: &Path) -> Report {
        let mut report = Report::default();
        browsers(env, Some(exe), &mut report);
        report
    }

    #[test]
    fn a_good_install_has_no_problem_and_an_empty_home_says_install() {
        let home = tempfile::tempdir().unwrap();
        let env = env_at(home.path());
        let host = executable(home.path());
        let report = only_browsers(&env, &host);
        assert_eq!(report.problems.len(), 1);
        assert!(
            report.problems[0]
                .fix
                .contains("datalink-host install --browser chrome"),
            "{:?}",
            report.problems
        );
        let targets = crate::install::install_targets(
            &env,
            &crate::install::Request {
                selection: Selection::Some(vec![Browser::Chromium]),
                scope: Scope::User,
            },
        )
        .unwrap();
        install_one(&env, &targets[0], &host, Scope::User).unwrap();
        let report = only_browsers(&env, &host);
        assert_eq!(report.problems, [], "{}", report.text());
        assert!(
            report
                .lines
                .iter()
                .any(|l| l.contains("✓ Chromium（用户级）")),
            "{:?}",
            report.lines
        );
        assert!(report
            .lines
            .iter()
            .any(|l| l
                .contains("allowed_origins chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/")));
        assert!(report.text().contains("结论：一切正常"));
    }

    #[test]
    fn a_found_browser_without_a_manifest_and_a_moved_binary_are_problems_with_fixes() {
        let home = tempfile::tempdir().unwrap();
        let env = env_at(home.path());
        let host = executable(home.path());
        std::fs::create_dir_all(home.path().join(".config/microsoft-edge")).unwrap();
        let chromium = &table::targets(&env, &[Browser::Chromium], Scope::User).unwrap()[0];
        install_one(
            &env,
            chromium,
            &home.path().join("gone/datalink-host"),
            Scope::User,
        )
        .unwrap();
        let report = only_browsers(&env, &host);
        let whats: Vec<&str> = report.problems.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(report.problems.len(), 2, "{whats:?}");
        assert!(
            whats[0].starts_with("Chromium：清单指向的协同客户端程序不存在"),
            "{whats:?}"
        );
        assert!(report.problems[0]
            .fix
            .contains("datalink-host install --browser chromium"));
        assert!(
            whats[1].starts_with("Microsoft Edge：未注册协同客户端"),
            "{whats:?}"
        );
        assert!(report.problems[1]
            .fix
            .contains("datalink-host install --browser edge"));
    }

    #[test]
    fn the_database_section_reports_health_mode_and_absence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d").join("datalink.db");
        let mut report = Report::default();
        database(&Ok(path.clone()), &mut report);
        assert!(report.lines.iter().any(|l| l.contains("尚未创建")));
        assert_eq!(report.problems, []);
        drop(crate::store::Store::open(&path).unwrap());
        let mut report = Report::default();
        database(&Ok(path.clone()), &mut report);
        assert_eq!(report.problems, [], "{:?}", report.lines);
        assert!(
            report
                .lines
                .iter()
                .any(|l| l.contains(&format!("integrity_check ok，结构版本 {}", schema::VERSION))),
            "{:?}",
            report.lines
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let mut report = Report::default();
            database(&Ok(path.clone()), &mut report);
            assert_eq!(report.problems.len(), 1);
            assert!(report.problems[0].fix.starts_with("运行 chmod 600"));
        }
        let other = dir.path().join("other.db");
        std::fs::write(&other, b"not a database at all, just text").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut report = Report::default();
        database(&Ok(other), &mut report);
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(
            report.problems[0].what.starts_with("数据库无法打开"),
            "{:?}",
            report.problems
        );
    }
}
