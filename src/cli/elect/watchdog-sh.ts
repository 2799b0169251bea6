/**
 * The Linux watchdog of `warden elect run`, as a bash script: the same protocol as
 * `watchdog-main.ts` (see there), at a tenth of a Node process's memory and start-up time.
 *
 * Times are absolute centiseconds of /proc/uptime (CLOCK_BOOTTIME, monotonic, read without
 * forking), so a message read late still carries the right deadline. SIGPIPE is ignored:
 * a report the dead CLI cannot read must not kill the watchdog before it acts.
 *
 * Input is read one character at a time into a buffer that survives timeouts: bash's
 * `read -t` on a pipe reads byte by byte, and when its timer expires in the middle of a line
 * it returns the bytes it already consumed as a "timeout" — a loop that drops them loses the
 * message (a `D` that would have moved the deadline, a `G`, an `R`). With `-N 1` the
 * consumed character, even a newline, is kept in the variable, so nothing is lost.
 */
export const WATCHDOG_SCRIPT = String.raw`
trap '' PIPE INT HUP QUIT TSTP
set -f
pgid= term= kill= sent= buf= tmo= rc=0
now() { local up rest; read -r up rest < /proc/uptime; up=${'$'}{up/./}; NOW=$((10#$up)); }
say() { echo "$1" 2>/dev/null; }
say ready
while :; do
  if [[ -n $pgid && -n $kill ]]; then
    # Act on the clock between messages, and whenever the last wait timed out.
    if [[ -z $buf ]] || (( rc > 128 )); then
      now
      if (( NOW >= kill )); then
        kill -KILL -- "-$pgid" 2>/dev/null; say "kill $pgid"; pgid=; rc=0; continue
      fi
      if [[ -z $sent ]] && (( NOW >= term )); then
        kill -TERM -- "-$pgid" 2>/dev/null; sent=1; say "term $pgid"
      fi
      if [[ -z $sent ]]; then next=$term; else next=$kill; fi
      t=$(( next - NOW )); (( t < 1 )) && t=1
      printf -v tmo '%d.%02d' $(( t / 100 )) $(( t % 100 ))
    fi
    c=; IFS= read -r -N 1 -t "$tmo" c; rc=$?
  else
    c=; IFS= read -r -N 1 c; rc=$?
  fi
  buf+=$c
  if (( rc > 128 )); then continue; fi
  if (( rc != 0 )); then
    if [[ -n $pgid ]]; then kill -KILL -- "-$pgid" 2>/dev/null; say "kill $pgid"; fi
    exit 0
  fi
  [[ $c == $'\n' ]] || continue
  msg=(${'$'}{buf%$'\n'}); buf=
  case "${'$'}{msg[0]-}:${'$'}{#msg[@]}" in
    G:2) [[ ${'$'}{msg[1]} =~ ^[0-9]+$ ]] && { pgid=${'$'}{msg[1]}; sent=; say "guard $pgid"; } ;;
    D:3) [[ ${'$'}{msg[1]} =~ ^[0-9]+$ && ${'$'}{msg[2]} =~ ^[0-9]+$ ]] && { term=${'$'}{msg[1]}; kill=${'$'}{msg[2]}; } ;;
    R:1) pgid= term= kill= sent= ;;
  esac
done
`;
