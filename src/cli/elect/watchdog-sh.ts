/**
 * The Linux watchdog of `warden elect run`, as a bash script: the same protocol as
 * `watchdog-main.ts` (see there), at a tenth of a Node process's memory and start-up time.
 *
 * Times are absolute centiseconds of /proc/uptime (CLOCK_BOOTTIME, monotonic, read without
 * forking), so a message read late still carries the right deadline. SIGPIPE is ignored:
 * a report the dead CLI cannot read must not kill the watchdog before it acts.
 */
export const WATCHDOG_SCRIPT = String.raw`
trap '' PIPE INT HUP QUIT TSTP
pgid= term= kill= sent=
now() { local up rest; read -r up rest < /proc/uptime; up=${'$'}{up/./}; NOW=$((10#$up)); }
say() { echo "$1" 2>/dev/null; }
say ready
while :; do
  if [[ -n $pgid && -n $kill ]]; then
    now
    if (( NOW >= kill )); then
      kill -KILL -- "-$pgid" 2>/dev/null; say "kill $pgid"; pgid=; continue
    fi
    if [[ -z $sent ]] && (( NOW >= term )); then
      kill -TERM -- "-$pgid" 2>/dev/null; sent=1; say "term $pgid"
    fi
    if [[ -z $sent ]]; then next=$term; else next=$kill; fi
    t=$(( next - NOW )); (( t < 1 )) && t=1
    printf -v tmo '%d.%02d' $(( t / 100 )) $(( t % 100 ))
    IFS=' ' read -r -t "$tmo" op a b; rc=$?
  else
    IFS=' ' read -r op a b; rc=$?
  fi
  if (( rc > 128 )); then continue; fi
  if (( rc != 0 )); then
    if [[ -n $pgid ]]; then kill -KILL -- "-$pgid" 2>/dev/null; say "kill $pgid"; fi
    exit 0
  fi
  case $op in
    G) pgid=$a; sent= ;;
    D) term=$a; kill=$b ;;
    R) pgid= term= kill= sent= ;;
  esac
done
`;
