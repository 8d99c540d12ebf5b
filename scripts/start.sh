#!/usr/bin/env bash
# Start jobd from a fresh checkout: install what the build needs, build release, put
# jobctl on the PATH, run jobd in the foreground with its defaults (or with the options
# given, e.g. --workers 8).
#
# jobctl on the PATH: a symbolic link to this checkout's .build/release/jobctl, in
# ~/.local/bin (root: /usr/local/bin). The link is made or updated only where nothing
# else is: a file that is not a link (an installed jobctl, say) is never replaced, nor a
# link to anything but another checkout's build. --no-link (first) skips this step.
set -euo pipefail
cd "$(dirname "$0")/.."

link=yes
if [ "${1:-}" = "--no-link" ]; then
    link=no
    shift
fi

say() { echo "start: $*" >&2; }

if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
    say "installing libsqlite3-dev"
    export DEBIAN_FRONTEND=noninteractive
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq libsqlite3-dev
    else sudo apt-get update -qq && sudo apt-get install -y -qq libsqlite3-dev; fi
fi
swift build -c release --product jobd >&2
swift build -c release --product jobctl >&2
built="$(pwd -P)/.build/release/jobctl"

# Links jobctl into a directory of the PATH; never fails the start.
link_jobctl() {
    local dir target current
    if [ "$(id -u)" -eq 0 ]; then
        dir=/usr/local/bin
    elif [ -n "${HOME:-}" ]; then
        dir="$HOME/.local/bin"
    else
        say "no HOME: jobctl is at $built"
        return
    fi
    target="$dir/jobctl"
    if [ -L "$target" ]; then
        current="$(readlink "$target")"
        if [ "$current" = "$built" ]; then
            say "jobctl: $target -> $built"
        elif [ ! -e "$target" ] || [[ "$current" == */.build/release/jobctl ]]; then
            # A dangling link, or one to another checkout's build (this script's own
            # kind of link): point it here, so jobctl matches the daemon being started.
            ln -sfn "$built" "$target"
            say "jobctl: $target -> $built (was -> $current)"
        else
            say "jobctl: $target is a link to $current, which this script did not make; left as it is."
            say "        this checkout's jobctl is $built"
            return
        fi
    elif [ -e "$target" ]; then
        say "jobctl: $target exists and is not a link (an installed jobctl?); left as it is."
        say "        this checkout's jobctl is $built"
        return
    else
        if ! mkdir -p "$dir" || ! ln -s "$built" "$target"; then
            say "jobctl: could not link $target; jobctl is at $built"
            return
        fi
        say "jobctl: linked $target -> $built"
    fi
    case ":$PATH:" in
        *":$dir:"*)
            local found
            found="$(command -v jobctl || true)"
            if [ -n "$found" ] && [ "$found" != "$target" ]; then
                say "jobctl: note that $found comes first on your PATH, before $target"
            fi
            ;;
        *)
            local line
            if [ "$dir" = "${HOME:-}/.local/bin" ]; then
                line='export PATH="$HOME/.local/bin:$PATH"'
            else
                line="export PATH=\"$dir:\$PATH\""
            fi
            say "jobctl: $dir is not on your PATH; in the shell where you run jobctl:"
            say "        $line"
            if [ -n "${HOME:-}" ] && grep -qs '\.local/bin' "$HOME/.profile"; then
                say "        (your ~/.profile adds it by itself from the next login on)"
            fi
            ;;
    esac
}
if [ "$link" = yes ]; then
    link_jobctl
else
    say "jobctl is at $built"
fi
exec .build/release/jobd "$@"
