#!/usr/bin/env bash
# Build a Debian package of jobd with dpkg-deb (no debhelper): the static release
# binaries, the units, the jobd user (sysusers.d), /etc/jobd/jobd.yaml as a conffile, the
# man pages, the shell completions and the docs. docs/packaging.md describes the package.
#
#   scripts/package-deb.sh                 build (scripts/install.sh --build-only), then package
#   scripts/package-deb.sh --no-build      package what the last build made (.build-static/release)
#   scripts/package-deb.sh --output DIR    write the .deb to DIR (default: dist)
#
# Prints the path of the .deb on its last line. The version is jobdVersion (the one
# `jobd --version` prints) plus, off a v<version> tag, +git<commits>.<hash>, so later
# commits sort as upgrades; JOBD_DEB_VERSION overrides it. The architecture is
# dpkg's, Depends: is dpkg-shlibdeps' reading of the binaries' shared libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

build=yes
output=dist
while [ $# -gt 0 ]; do
    case "$1" in
    --no-build) build=no ;;
    --output)
        output=${2:?--output needs a directory}
        shift
        ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "package-deb: unknown option $1 (see --help)" >&2
        exit 2
        ;;
    esac
    shift
done

say() { echo "package-deb: $*" >&2; }
for tool in dpkg-deb dpkg-shlibdeps gzip; do
    command -v "$tool" >/dev/null || {
        echo "package-deb: $tool is missing (Debian: dpkg-dev)" >&2
        exit 1
    }
done

if [ "$build" = yes ]; then
    scripts/install.sh --build-only >&2
fi

version=${JOBD_DEB_VERSION:-}
if [ -z "$version" ]; then
    version=$(sed -n 's/^public let jobdVersion = "\(.*\)"$/\1/p' Sources/JobdModel/APIBodies.swift)
    [ -n "$version" ] || {
        echo "package-deb: no jobdVersion in Sources/JobdModel/APIBodies.swift" >&2
        exit 1
    }
    head=$(git rev-parse -q --verify HEAD 2>/dev/null || true)
    if [ -n "$head" ] && [ "$(git rev-parse -q --verify "refs/tags/v$version^{commit}" 2>/dev/null)" != "$head" ]; then
        version="$version+git$(git rev-list --count HEAD).$(git rev-parse --short=8 HEAD)"
    fi
fi
architecture=$(dpkg --print-architecture)
maintainer=${JOBD_DEB_MAINTAINER:-"$(git config user.name 2>/dev/null || echo jobd maintainers) <$(git config user.email 2>/dev/null || echo root@localhost)>"}

# The tree is laid out as debhelper would (work/debian/jobd), where dpkg-shlibdeps
# expects the binaries; it is removed on exit.
work=$(mktemp -d /tmp/jobd-package-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/debian/jobd
mkdir -p "$root"

# Everything scripts/install.sh installs, under /usr; the completions where Debian's
# shells look for packaged ones (zsh: vendor-completions, which Debian's fpath holds).
DESTDIR=$root PREFIX=/usr ZSH_COMPLETIONS_DIR=/usr/share/zsh/vendor-completions \
    scripts/install.sh --no-build >"$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    exit 1
}
# install.sh puts system units in /etc/systemd/system, the administrator's directory; a
# package's go to the distribution's (every unit there, jobd.socket too once it exists).
mkdir -p "$root/usr/lib/systemd/system"
mv "$root"/etc/systemd/system/* "$root/usr/lib/systemd/system/"
rmdir "$root/etc/systemd/system" "$root/etc/systemd"
install -D -m 0644 systemd/jobd.sysusers "$root/usr/lib/sysusers.d/jobd.conf"

# Debian policy: man pages gzip -9n (no name, no time stamp: reproducible), a
# copyright file and a compressed changelog in /usr/share/doc/jobd.
gzip -9n "$root"/usr/share/man/man1/*.1
docdir=$root/usr/share/doc/jobd
scripts/deb/copyright.sh >"$docdir/copyright"
chmod 0644 "$docdir/copyright"
{
    echo "jobd ($version) unstable; urgency=medium"
    echo
    echo "  * Package built from $(git rev-parse --short=12 HEAD 2>/dev/null || echo "an unknown commit")."
    echo "    The project's history is its git log; docs/decisions.md records why."
    echo
    echo " -- $maintainer  $(date -R -u -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
} | gzip -9n >"$docdir/changelog.gz"

# Control area: the conffile, the maintainer scripts, md5sums, control.
mkdir -p "$root/DEBIAN"
echo /etc/jobd/jobd.yaml >"$root/DEBIAN/conffiles"
install -m 0755 scripts/deb/postinst scripts/deb/prerm scripts/deb/postrm "$root/DEBIAN/"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum) >"$root/DEBIAN/md5sums"

# Depends: the shared libraries the binaries link (libc6, libsqlite3-0, libstdc++6,
# zlib1g ...), with the lowest versions their symbols need; the Swift runtime is linked
# in. dpkg-shlibdeps reads debian/control only for the package's name.
printf 'Source: jobd\n\nPackage: jobd\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O debian/jobd/usr/bin/jobd debian/jobd/usr/bin/jobctl 2>"$work/shlibdeps.log" |
    sed -n 's/^shlibs:Depends=//p') || {
    cat "$work/shlibdeps.log" >&2
    exit 1
}
[ -n "$depends" ] || {
    echo "package-deb: dpkg-shlibdeps found no dependencies" >&2
    exit 1
}
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: jobd
Version: $version
Architecture: $architecture
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Recommends: systemd
Suggests: bash-completion
Section: admin
Priority: optional
Description: job daemon: durable fetch and delay jobs over a Unix socket
 jobd takes fetch jobs (HTTP GET a URL) and delay jobs (sleep, then return a
 value) over a Unix domain socket, stores every job durably in SQLite (or
 PostgreSQL, for many nodes), runs them concurrently under a worker limit and
 records each result and each error. It runs as the systemd service jobd.
 .
 jobctl, the command-line client, submits jobs, waits for them and shows
 their state. Members of the group jobd may use the socket.
CONTROL

mkdir -p "$output"
deb="$output/jobd_${version}_${architecture}.deb"
# --root-owner-group: every file root:root without fakeroot; the modes are install's.
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
say "built $deb ($(du -h "$deb" | cut -f1); Depends: $depends)"
echo "$deb"
