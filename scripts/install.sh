#!/usr/bin/env bash
# Install jobd as a system service: release binaries with the Swift standard library
# linked in (they run on a machine without the Swift toolchain), the systemd units, the
# configuration and the jobd system user and group.
#
#   scripts/install.sh                        build, install under /usr/local, add the jobd user
#   DESTDIR=/tmp/stage scripts/install.sh     lay everything out under a scratch root (no user)
#   PREFIX=/opt/jobd scripts/install.sh       binaries in /opt/jobd/bin (the units follow)
#   scripts/install.sh --build-only           only build (.build-static/release)
#   scripts/install.sh --no-build             install what the last build made
#
# Layout (under ${DESTDIR}):
#   ${PREFIX}/bin/jobd, ${PREFIX}/bin/jobctl          (PREFIX defaults to /usr/local)
#   /etc/systemd/system/jobd.service                    the system unit
#   ${PREFIX}/lib/systemd/user/jobd.service             the user unit (systemctl --user)
#   /etc/jobd/jobd.yaml                                 the configuration, never overwritten
#   ${PREFIX}/share/doc/jobd/{README.md,jobd.yaml}      the docs and the default configuration
#   ${PREFIX}/share/man/man1/{jobd.1,jobctl.1}          the man pages (or MANDIR=DIR/man1)
#   ${PREFIX}/share/bash-completion/completions/jobctl  completions for bash (BASH_COMPLETIONS_DIR),
#   ${PREFIX}/share/zsh/site-functions/_jobctl          zsh (ZSH_COMPLETIONS_DIR) and fish
#   ${PREFIX}/share/fish/vendor_completions.d/jobctl.fish  (FISH_COMPLETIONS_DIR)
# The binaries need the C libraries libsqlite3, libstdc++ and zlib (Debian: libsqlite3-0,
# libstdc++6, zlib1g), nothing from the Swift toolchain; the script checks with ldd.
set -euo pipefail
cd "$(dirname "$0")/.."

build=yes
install=yes
for argument in "$@"; do
    case "$argument" in
    --no-build) build=no ;;
    --build-only) install=no ;;
    -h | --help)
        sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "install: unknown option $argument (see --help)" >&2
        exit 2
        ;;
    esac
done

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
# A scratch path of its own: the static build does not replace the products of
# `swift build -c release` in .build (scripts/start.sh, CI) and does not wait for its lock.
SCRATCH=${JOBD_INSTALL_SCRATCH:-.build-static}
products="$SCRATCH/release"

say() { echo "install: $*"; }

if [ "$build" = yes ]; then
    if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
        say "installing libsqlite3-dev (the build links the system SQLite)"
        if [ "$(id -u)" -eq 0 ]; then
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-dev
        else
            echo "install: libsqlite3-dev is missing; run as root or install it first" >&2
            exit 1
        fi
    fi
    say "building release binaries with the Swift standard library linked in ($SCRATCH)"
    swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product jobd
    swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product jobctl
fi

# ---- Man pages (issue 14, packaging) ----------------------------------------------------
# jobd.1 and jobctl.1 come from argument-parser's generate-manual plugin, made from the
# commands' own help at build time and never committed (docs/decisions.md). The plugin
# would first rebuild the whole package in release mode without --static-swift-stdlib,
# which is a compile flag too: every module again, over these products. So only the
# plugin's tool is built (`plugin generate-manual --help` builds it and builds nothing
# else) and run as the plugin runs it, on the static binaries above. The date is the
# commit's, so one commit always makes the same pages.
manpages="$SCRATCH/man"
if [ "$build" = yes ]; then
    say "generating man pages (argument-parser's generate-manual)"
    swift package --scratch-path "$SCRATCH" plugin generate-manual --help >/dev/null
    generate_manual=""
    for candidate in "$SCRATCH"/debug/generate-manual-tool "$SCRATCH"/debug/generate-manual; do
        if [ -x "$candidate" ]; then
            generate_manual=$candidate
            break
        fi
    done
    if [ -z "$generate_manual" ]; then
        echo "install: the generate-manual plugin's tool is not in $SCRATCH/debug" >&2
        exit 1
    fi
    page_date=$(git log -1 --format=%cs 2>/dev/null || date -u +%Y-%m-%d)
    rm -rf "$manpages"
    mkdir -p "$manpages"
    for binary in jobd jobctl; do
        "$generate_manual" "$products/$binary" --date "$page_date" --output-directory "$manpages"
        # A blank line in a discussion is an empty mdoc input line, which man warns
        # about; .Pp is the paragraph break it stands for.
        sed -i 's/^$/.Pp/' "$manpages/$binary.1"
    done
    say "man pages: $manpages/jobd.1, $manpages/jobctl.1"
fi
[ "$install" = yes ] || exit 0

for binary in jobd jobctl; do
    if [ ! -x "$products/$binary" ]; then
        echo "install: $products/$binary is missing; run without --no-build" >&2
        exit 1
    fi
done

# The toolchain's directory (e.g. /opt/swift/usr): no installed binary may need it.
toolchain=""
if command -v swift >/dev/null 2>&1; then
    toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
fi

bindir="$DESTDIR$PREFIX/bin"
docdir="$DESTDIR$PREFIX/share/doc/jobd"
userunitdir="$DESTDIR$PREFIX/lib/systemd/user"
unitdir="$DESTDIR/etc/systemd/system"
confdir="$DESTDIR/etc/jobd"

install -d -m 0755 "$bindir" "$docdir" "$userunitdir" "$unitdir" "$confdir"
for binary in jobd jobctl; do
    install -m 0755 "$products/$binary" "$bindir/$binary"
    # DWARF only; the symbol table stays, so crash backtraces keep function names.
    if command -v strip >/dev/null 2>&1; then strip --strip-debug "$bindir/$binary"; fi
    say "installed $bindir/$binary ($(du -h "$bindir/$binary" | cut -f1))"
    if [ -n "$toolchain" ] && ldd "$bindir/$binary" | grep -q "$toolchain"; then
        echo "install: $bindir/$binary links libraries of the Swift toolchain ($toolchain):" >&2
        ldd "$bindir/$binary" | grep "$toolchain" >&2
        exit 1
    fi
done
say "ldd: no library from the Swift toolchain${toolchain:+ ($toolchain)}; needs $(ldd "$bindir/jobd" | awk '/=>/ {print $1}' | grep -v -e '^linux-vdso' | tr '\n' ' ')"

# The units name the binary by its installed path.
sed "s|/usr/local/bin/jobd|$PREFIX/bin/jobd|g; s|file:///usr/local/share/doc/jobd|file://$PREFIX/share/doc/jobd|g" \
    systemd/jobd.service >"$unitdir/jobd.service"
chmod 0644 "$unitdir/jobd.service"
say "installed $unitdir/jobd.service"
sed "s|/usr/local/bin/jobd|$PREFIX/bin/jobd|g" systemd/jobd-user.service >"$userunitdir/jobd.service"
chmod 0644 "$userunitdir/jobd.service"
say "installed $userunitdir/jobd.service (user unit: systemctl --user enable --now jobd)"

# Socket activation (optional, off until enabled): /etc/systemd/system/jobd.socket and
# ${PREFIX}/lib/systemd/user/jobd.socket; systemctl enable --now jobd.socket.
for socket_unit in "systemd/jobd.socket:$unitdir/jobd.socket" "systemd/jobd-user.socket:$userunitdir/jobd.socket"; do
    sed "s|file:///usr/local/share/doc/jobd|file://$PREFIX/share/doc/jobd|g" "${socket_unit%%:*}" >"${socket_unit#*:}"
    chmod 0644 "${socket_unit#*:}"
    say "installed ${socket_unit#*:} (socket activation: systemctl [--user] enable --now jobd.socket)"
done

install -m 0644 README.md Config/jobd.yaml "$docdir/"
say "installed $docdir/README.md and $docdir/jobd.yaml"
if [ -e "$confdir/jobd.yaml" ]; then
    say "kept the existing $confdir/jobd.yaml (the new default is $docdir/jobd.yaml)"
else
    install -m 0644 Config/jobd.yaml "$confdir/jobd.yaml"
    say "installed $confdir/jobd.yaml (every key at its default)"
fi

# ---- Man pages and shell completions (issue 14, packaging) -----------------------------
# The pages come from the build (above); the completion scripts from the jobctl just
# installed (`jobctl completions SHELL`, which needs no daemon).
mandir="$DESTDIR${MANDIR:-$PREFIX/share/man}/man1"
bashdir="$DESTDIR${BASH_COMPLETIONS_DIR:-$PREFIX/share/bash-completion/completions}"
zshdir="$DESTDIR${ZSH_COMPLETIONS_DIR:-$PREFIX/share/zsh/site-functions}"
fishdir="$DESTDIR${FISH_COMPLETIONS_DIR:-$PREFIX/share/fish/vendor_completions.d}"
for binary in jobd jobctl; do
    if [ ! -f "$manpages/$binary.1" ]; then
        echo "install: $manpages/$binary.1 is missing; run without --no-build" >&2
        exit 1
    fi
done
install -d -m 0755 "$mandir" "$bashdir" "$zshdir" "$fishdir"
install -m 0644 "$manpages/jobd.1" "$manpages/jobctl.1" "$mandir/"
say "installed $mandir/jobd.1 and $mandir/jobctl.1"
"$bindir/jobctl" completions bash >"$bashdir/jobctl"
"$bindir/jobctl" completions zsh >"$zshdir/_jobctl"
"$bindir/jobctl" completions fish >"$fishdir/jobctl.fish"
chmod 0644 "$bashdir/jobctl" "$zshdir/_jobctl" "$fishdir/jobctl.fish"
say "installed completions: $bashdir/jobctl, $zshdir/_jobctl, $fishdir/jobctl.fish"

if [ -n "$DESTDIR" ]; then
    say "DESTDIR install: no user created; on the target run: useradd --system --user-group --no-create-home --home-dir /var/lib/jobd --shell /usr/sbin/nologin jobd"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install: not root, so the jobd user was not created" >&2
    exit 1
fi
if getent group jobd >/dev/null; then
    say "group jobd exists"
else
    groupadd --system jobd
    say "created the system group jobd"
fi
if getent passwd jobd >/dev/null; then
    say "user jobd exists"
else
    useradd --system --gid jobd --no-create-home --home-dir /var/lib/jobd --shell /usr/sbin/nologin \
        --comment "jobd job daemon" jobd
    say "created the system user jobd"
fi
if [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    systemctl daemon-reload
    say "ran systemctl daemon-reload"
fi
say "next: systemctl enable --now jobd; usermod -aG jobd USER lets USER use /run/jobd/jobd.sock"
