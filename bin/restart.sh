#!/usr/bin/env bash
# canal-rs restart.sh: stop.sh, then startup.sh with the same arguments (Java Canal's behaviour).
set -u
case "$(uname)" in
    Linux) bin_abs_path=$(readlink -f "$(dirname "$0")") ;;
    *) bin_abs_path=$(cd "$(dirname "$0")" && pwd) ;;
esac
bash "${bin_abs_path}/stop.sh"
exec bash "${bin_abs_path}/startup.sh" "$@"
