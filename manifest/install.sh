#!/bin/sh
# DataLink 协同客户端安装脚本（Linux、macOS）
#
#   sh install.sh [--browser chrome|chromium|edge|brave|360|firefox|all] [--system]
#                 [--policy https://…/update.xml] [--uninstall]
#
# 1. 把 host/datalink-host 复制到固定位置：
#      Linux  ~/.local/share/datalink/bin/（--system：/opt/datalink/）
#      macOS  ~/Library/Application Support/DataLink/bin/（--system：/Library/Application Support/DataLink/bin/）
# 2. 运行 `datalink-host install`：为浏览器写入协同客户端清单（不写 --browser 时为找到的所有浏览器）。
# 3. --policy URL（需要 root）：写入企业策略 ExtensionInstallForcelist，让 Chrome / Chromium / Edge /
#    Brave 从 URL（cargo xtask dist 生成的 update.xml 所在地址）自动安装并更新扩展。
# 4. 最后运行 `datalink-host doctor` 显示结果。
# --uninstall 撤销以上全部（本地数据库保留）。
set -eu

EXTENSION_ID=kkaaldpdgcikdogodnihlanlipfoeboa
here=$(cd "$(dirname "$0")" && pwd)
browser=all
scope=--user
policy=
uninstall=0

say() { printf '%s\n' "$*"; }
die() { printf 'DataLink 安装：%s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --browser) [ $# -ge 2 ] || die "--browser 需要一个值"; browser=$2; shift 2 ;;
        --browser=*) browser=${1#--browser=}; shift ;;
        --system) scope=--system; shift ;;
        --user) scope=--user; shift ;;
        --policy) [ $# -ge 2 ] || die "--policy 需要 update.xml 的地址"; policy=$2; shift 2 ;;
        --policy=*) policy=${1#--policy=}; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) die "不认识的参数 $1（见 sh install.sh --help）" ;;
    esac
done

case "$(uname -s)" in
    Darwin)
        if [ "$scope" = --system ]; then bin="/Library/Application Support/DataLink/bin"; else bin="$HOME/Library/Application Support/DataLink/bin"; fi
        data="$HOME/Library/Application Support/DataLink" ;;
    *)
        if [ "$scope" = --system ]; then bin=/opt/datalink; else bin="${XDG_DATA_HOME:-$HOME/.local/share}/datalink/bin"; fi
        data="${XDG_DATA_HOME:-$HOME/.local/share}/datalink" ;;
esac
dest="$bin/datalink-host"

if [ "$scope" = --system ] || [ -n "$policy" ]; then
    [ "$(id -u)" = 0 ] || die "--system 和 --policy 需要管理员权限：sudo sh $0 …"
fi

# The managed-policy files this script may write (Linux), one per Chromium-family browser.
policy_files() {
    case "$browser" in
        chrome) echo /etc/opt/chrome/policies/managed ;;
        chromium) echo /etc/chromium/policies/managed ;;
        edge) echo /etc/opt/edge/policies/managed ;;
        brave) echo /etc/brave/policies/managed ;;
        *) printf '%s\n' /etc/opt/chrome/policies/managed /etc/chromium/policies/managed /etc/opt/edge/policies/managed /etc/brave/policies/managed ;;
    esac
}

if [ "$uninstall" = 1 ]; then
    if [ -x "$dest" ]; then
        "$dest" uninstall --browser "$browser" "$scope"
        rm -f "$dest"
        rmdir "$bin" 2>/dev/null || true
    else
        say "没有找到已安装的协同客户端：$dest"
    fi
    if [ "$(id -u)" = 0 ] && [ "$(uname -s)" != Darwin ]; then
        policy_files | while read -r dir; do
            if [ -f "$dir/datalink.json" ]; then rm -f "$dir/datalink.json"; say "已删除策略 $dir/datalink.json"; fi
        done
    fi
    say "本地数据库保留在 $data（不再需要时可手动删除）。"
    exit 0
fi

src="$here/host/datalink-host"
[ -f "$src" ] || src="$here/datalink-host"
[ -f "$src" ] || die "找不到协同客户端程序 host/datalink-host（请在解压后的 DataLink 文件夹中运行本脚本）"

# The data folder holds the company's declarations: private from the start.
(umask 077 && mkdir -p "$data")
chmod 700 "$data"
mkdir -p "$bin"
# Replace, not overwrite: a host the browser is running keeps its old file.
cp "$src" "$dest.new"
chmod 755 "$dest.new"
mv -f "$dest.new" "$dest"
say "协同客户端已复制到 $dest"

"$dest" install --browser "$browser" "$scope"

if [ -n "$policy" ]; then
    if [ "$(uname -s)" = Darwin ]; then
        say "macOS 的企业策略需通过 MDM 配置描述文件下发：ExtensionInstallForcelist = $EXTENSION_ID;$policy"
    else
        policy_files | while read -r dir; do
            mkdir -p "$dir"
            printf '{\n  "ExtensionInstallForcelist": ["%s;%s"]\n}\n' "$EXTENSION_ID" "$policy" > "$dir/datalink.json"
            chmod 644 "$dir/datalink.json"
            say "已写入策略 $dir/datalink.json"
        done
        say "重新启动浏览器后，扩展将从 $policy 自动安装（chrome://policy 可查看）。"
    fi
fi

say ""
"$dest" doctor --no-card || true
