#!/usr/bin/env bash
# Re-vendor the front-end files under static/vendor/ from the npm registry.
#
#   scripts/vendor.sh                       # htmx 2.0.11, design-tokens 1.1.9 (the pinned versions)
#   TOKENS_VERSION=latest scripts/vendor.sh # pick up a newer design-tokens release
#
# Only `npm pack` is used: nothing is installed, no lifecycle scripts run, no CDN is contacted.
# After running, review the diff, update static/vendor/README.md if a version changed, and
# re-check the pages (htmx must stay on 2.x: 4.x is a different API).
set -euo pipefail

HTMX_VERSION="${HTMX_VERSION:-2.0.11}"
TOKENS_VERSION="${TOKENS_VERSION:-1.1.9}"

case "$HTMX_VERSION" in
  2.*) ;;
  *) echo "vendor.sh: htmx must stay on 2.x (got $HTMX_VERSION)" >&2; exit 1 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$root/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# fetch SPEC DIR: npm pack SPEC into $tmp and unpack it into $tmp/DIR (tarball root is package/).
fetch() {
  local spec="$1" dir="$2" tarball
  tarball="$(cd "$tmp" && npm pack --silent --ignore-scripts "$spec" | tail -n 1)"
  mkdir -p "$tmp/$dir"
  tar -xzf "$tmp/$tarball" -C "$tmp/$dir"
}

fetch "htmx.org@$HTMX_VERSION" htmx
fetch "@digital-go-jp/design-tokens@$TOKENS_VERSION" tokens

htmx_got="$(node -p "require('$tmp/htmx/package/package.json').version")"
tokens_got="$(node -p "require('$tmp/tokens/package/package.json').version")"

mkdir -p "$vendor/htmx" "$vendor/design-tokens"
install -m 0644 "$tmp/htmx/package/dist/htmx.min.js" "$vendor/htmx/htmx.min.js"
install -m 0644 "$tmp/htmx/package/LICENSE" "$vendor/htmx/LICENSE"
install -m 0644 "$tmp/tokens/package/dist/tokens.css" "$vendor/design-tokens/tokens.css"
install -m 0644 "$tmp/tokens/package/LICENSE" "$vendor/design-tokens/LICENSE"

cat > "$vendor/design-tokens/README.md" <<NOTE
# @digital-go-jp/design-tokens $tokens_got

- Source: npm package \`@digital-go-jp/design-tokens@$tokens_got\`, file \`dist/tokens.css\`
  (all tokens as CSS custom properties on \`:root\`), copied unchanged.
- Licence: MIT, Copyright (c) 2023 デジタル庁 (Digital Agency, Japan) — see \`LICENSE\`.
- Re-vendor with \`scripts/vendor.sh\`; do not edit \`tokens.css\` by hand.
NOTE

echo "vendored htmx.org $htmx_got and @digital-go-jp/design-tokens $tokens_got into $vendor"
echo "check static/vendor/README.md lists these versions"
