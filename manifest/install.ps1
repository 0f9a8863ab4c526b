# DataLink 协同客户端安装脚本（Windows 10 及以上）
#
#   powershell -ExecutionPolicy Bypass -File install.ps1 [-Browser chrome|chromium|edge|brave|360|firefox|all]
#              [-System] [-Policy https://…/update.xml] [-Uninstall]
#
# 1. 把 host\datalink-host.exe 复制到固定位置：%LOCALAPPDATA%\DataLink\bin\（-System：%ProgramFiles%\DataLink\）
# 2. 运行 datalink-host.exe install：在注册表 HKCU（-System：HKLM）\Software\<浏览器>\NativeMessagingHosts
#    下登记协同客户端清单。不写 -Browser 时为表中的所有浏览器登记（未安装的浏览器不会读取）。
# 3. -Policy URL：写入企业策略 ExtensionInstallForcelist（Chrome、Edge），让浏览器从 URL（cargo xtask dist
#    生成的 update.xml 所在地址）自动安装并更新扩展。注意：Windows 上的 Chrome 和 Edge 只在加入域或受管理
#    （MDM）的电脑上接受商店以外的强制安装；其他电脑请用 Edge 加载项商店或开发者模式加载。
# 4. 最后运行 datalink-host.exe doctor 显示结果。
# -Uninstall 撤销以上全部（本地数据库保留）。
param(
    [string]$Browser = "all",
    [switch]$System,
    [string]$Policy = "",
    [switch]$Uninstall
)
$ErrorActionPreference = "Stop"
$ExtensionId = "kkaaldpdgcikdogodnihlanlipfoeboa"
$here = Split-Path -Parent $MyInvocation.MyCommand.Path

if ($System) {
    $binDir = Join-Path $env:ProgramFiles "DataLink"
    $scope = "--system"
    $policyRoot = "HKLM:\SOFTWARE\Policies"
    $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
        Write-Host "-System 需要管理员权限：请以管理员身份运行 PowerShell 后重试。"
        exit 1
    }
} else {
    $binDir = Join-Path $env:LOCALAPPDATA "DataLink\bin"
    $scope = "--user"
    $policyRoot = "HKCU:\SOFTWARE\Policies"
}
$dest = Join-Path $binDir "datalink-host.exe"
$policyKeys = @("$policyRoot\Google\Chrome\ExtensionInstallForcelist", "$policyRoot\Microsoft\Edge\ExtensionInstallForcelist")

function Remove-DataLinkPolicy {
    foreach ($key in $policyKeys) {
        if (Test-Path $key) {
            $item = Get-Item $key
            foreach ($name in $item.GetValueNames()) {
                if ([string]$item.GetValue($name) -like "$ExtensionId;*") {
                    Remove-ItemProperty -Path $key -Name $name
                    Write-Host "已删除策略 $key\$name"
                }
            }
        }
    }
}

if ($Uninstall) {
    if (Test-Path $dest) {
        & $dest uninstall --browser $Browser $scope
        Remove-Item -Force $dest
    } else {
        Write-Host "没有找到已安装的协同客户端：$dest"
    }
    Remove-DataLinkPolicy
    Write-Host "本地数据库保留在 $(Join-Path $env:LOCALAPPDATA 'DataLink')（不再需要时可手动删除）。"
    exit 0
}

$src = Join-Path $here "host\datalink-host.exe"
if (-not (Test-Path $src)) { $src = Join-Path $here "datalink-host.exe" }
if (-not (Test-Path $src)) {
    Write-Host "找不到协同客户端程序 host\datalink-host.exe（请在解压后的 DataLink 文件夹中运行本脚本）"
    exit 1
}

New-Item -ItemType Directory -Force -Path $binDir | Out-Null
try {
    Copy-Item -Force $src $dest
} catch {
    Write-Host "无法替换 $dest：协同客户端可能正在运行。请关闭浏览器后重试。"
    exit 1
}
Write-Host "协同客户端已复制到 $dest"

& $dest install --browser $Browser $scope
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

if ($Policy) {
    Remove-DataLinkPolicy
    foreach ($key in $policyKeys) {
        if (-not (Test-Path $key)) { New-Item -Force -Path $key | Out-Null }
        $item = Get-Item $key
        $n = 1
        while ($item.GetValueNames() -contains [string]$n) { $n++ }
        New-ItemProperty -Path $key -Name ([string]$n) -Value "$ExtensionId;$Policy" -PropertyType String -Force | Out-Null
        Write-Host "已写入策略 $key\$n"
    }
    Write-Host "重新启动浏览器后，扩展将从 $Policy 自动安装（chrome://policy 或 edge://policy 可查看）。"
}

Write-Host ""
& $dest doctor --no-card
