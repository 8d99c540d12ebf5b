#!/usr/bin/env bash
# Prints the Debian copyright file (DEP-5) of the jobd package: jobd's own licence and,
# because the binaries link them in, the Swift runtime's and every resolved Swift
# package's (read from their checkouts in the build's scratch path). The full texts of
# Apache-2.0 are in /usr/share/common-licenses; MIT texts are copied in whole.
set -euo pipefail
cd "$(dirname "$0")/../.."
checkouts=${JOBD_INSTALL_SCRATCH:-.build-static}/checkouts
[ -d "$checkouts" ] || {
    echo "copyright: $checkouts is missing; build first (scripts/install.sh --build-only)" >&2
    exit 1
}

# A licence file as a DEP-5 text block: each line indented, empty lines as " .".
indent() { sed 's/^[[:space:]]*$/./; s/^/ /' "$1"; }

cat <<'HEADER'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: jobd
Comment: jobd and jobctl link the Swift standard library, Foundation and the Swift
 packages below statically (SwiftPM, versions pinned exactly in Package.swift);
 the "Files:" of those stanzas name their checkouts in the build. swift-crypto and
 swift-nio-ssl include BoringSSL, whose licences they ship in their sources.

Files: *
Copyright: the jobd authors
License: Apache-2.0

Files: swift-toolchain/*
Copyright: Apple Inc. and the Swift project authors
Comment: the Swift standard library, Foundation and Dispatch, linked in by
 --static-swift-stdlib.
License: Apache-2.0 with Runtime Library Exception
HEADER

mit=no
for checkout in "$checkouts"/*/; do
    name=$(basename "$checkout")
    licence_file=$(find "$checkout" -maxdepth 1 -type f \( -iname 'LICENSE*' -o -iname 'COPYING*' \) | sort | head -1)
    [ -n "$licence_file" ] || {
        echo "copyright: no licence file in $checkout" >&2
        exit 1
    }
    # The first concrete "Copyright <year> <holder>" line (Apache's own text has only
    # the "[yyyy]" template); NOTICE files hold it for many Swift server packages.
    sources=("$licence_file")
    for notice in "$checkout"NOTICE*; do [ -f "$notice" ] && sources+=("$notice"); done
    holder=$(awk '{ sub(/^[ \t]+/, "") } /^Copyright ([(][cC][)] |© )?[0-9]/ {
        sub(/^Copyright ([(][cC][)] |© )?/, ""); print; exit }' "${sources[@]}")
    if grep -q 'Permission is hereby granted' "$licence_file"; then
        licence="MIT-$name"
        mit=yes
    elif grep -q 'Runtime Library Exception' "$licence_file"; then
        licence="Apache-2.0 with Runtime Library Exception"
    elif grep -q 'Apache License' "$licence_file"; then
        licence=Apache-2.0
    else
        echo "copyright: cannot tell the licence of $licence_file" >&2
        exit 1
    fi
    echo
    echo "Files: checkouts/$name/*"
    echo "Copyright: ${holder:-the $name authors}"
    echo "License: $licence"
done

echo
echo "License: Apache-2.0"
echo " Licensed under the Apache License, Version 2.0 (the \"License\"); you may not use"
echo " this file except in compliance with the License."
echo " ."
echo " On Debian systems, the full text of the Apache License, Version 2.0 is in"
echo " /usr/share/common-licenses/Apache-2.0."
echo
echo "License: Apache-2.0 with Runtime Library Exception"
echo " The Apache License, Version 2.0 (/usr/share/common-licenses/Apache-2.0), with"
echo " this exception:"
echo " ."
sed -n '/^## Runtime Library Exception/,$p' "$checkouts/swift-argument-parser/LICENSE.txt" | tail -n +2 |
    sed '/./,$!d' >"${TMPDIR:-/tmp}/jobd-rle.$$"
indent "${TMPDIR:-/tmp}/jobd-rle.$$"
rm -f "${TMPDIR:-/tmp}/jobd-rle.$$"
if [ "$mit" = yes ]; then
    for checkout in "$checkouts"/*/; do
        name=$(basename "$checkout")
        licence_file=$(find "$checkout" -maxdepth 1 -type f \( -iname 'LICENSE*' -o -iname 'COPYING*' \) | sort | head -1)
        grep -q 'Permission is hereby granted' "$licence_file" || continue
        echo
        echo "License: MIT-$name"
        indent "$licence_file"
    done
fi
