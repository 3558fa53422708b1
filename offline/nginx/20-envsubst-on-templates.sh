#!/usr/bin/env bash
# Render every $NGINX_ENVSUBST_TEMPLATE_DIR/*.template into $NGINX_ENVSUBST_OUTPUT_DIR (suffix stripped),
# replacing only variables that are set in the environment, so nginx's own $host, $uri ... survive.
set -Eeuo pipefail

main() {
  local dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
  local suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
  local out=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
  local vars template rel target
  [[ -d $dir ]] || return 0
  vars=$(env | cut -d= -f1 | sed 's/^/$/' | tr '\n' ' ')
  while IFS= read -r -d '' template; do
    rel=${template#"$dir"/}
    target=$out/${rel%"$suffix"}
    mkdir -p "$(dirname "$target")"
    echo "$0: running envsubst on $template to $target"
    envsubst "$vars" <"$template" >"$target"
  done < <(find "$dir" -follow -type f -name "*$suffix" -print0 | sort -z)
}

main "$@"
