/**
 * The Linux watchdog of `warden elect run`, as a bash script: the same protocol as
 * `watchdog-main.ts` (see there), at a tenth of a Node process's memory and start-up time.
 * Arguments: the etcd client URLs (`http://host:port`), used only to revoke the CLI's lease
 * after the CLI died.
 *
 * Times are absolute centiseconds of /proc/uptime (CLOCK_BOOTTIME, monotonic, read without
 * forking), so a message read late still carries the right deadline. SIGPIPE is ignored:
 * a report the dead CLI cannot read must not kill the watchdog before it acts.
 *
 * Input is read a line at a time into a buffer that survives timeouts: bash's `read -t` on a
 * pipe reads byte by byte, and when its timer expires in the middle of a line it returns the
 * bytes it already consumed as a "timeout" (saved in the variable) — a loop that dropped them
 * would lose the message (a `D` that would have moved the deadline, a `G`, an `R`). One `read`
 * per line, not per character, keeps an idle leader's watchdog near zero CPU.
 *
 * When the pipe closes while the CLI still had a lease (`L`), the CLI died (kill -9, crash):
 * the watchdog SIGKILLs the group, waits until no process of it is left (zombies do not
 * count), then revokes the lease through etcd's JSON gateway (`POST /v3/lease/revoke` over
 * bash's /dev/tcp, plain http only), so the next candidate leads at once instead of after the
 * lease's TTL. A group that does not die by the kill deadline keeps the lease: etcd then
 * expires it, as without a watchdog.
 */
export const WATCHDOG_SCRIPT = String.raw`
trap '' PIPE INT HUP QUIT TSTP
set -f
pgid= grp= term= kill= sent= lease= buf= part= tmo= rc=0
eps=("$@")
now() { local up rest; read -r up rest < /proc/uptime; up=${'$'}{up/./}; NOW=$((10#$up)); }
say() { echo "$1" 2>/dev/null; }
# True while a process of group $1 lives (zombies and dying processes do not count).
alive() {
  local g=$1 f st found=1; local -a x
  set +f
  for f in /proc/[0-9]*/stat; do
    { read -r st < "$f"; } 2>/dev/null || continue
    x=(${'$'}{st##*') '})
    if [[ ${'$'}{x[2]-} == "$g" && ${'$'}{x[0]-} != [ZX] ]]; then found=0; break; fi
  done
  set -f
  return $found
}
revoke() {
  local ep hp host port status fd body="{\"ID\":\"$lease\"}"
  for ep in "${'$'}{eps[@]}"; do
    [[ $ep =~ ^http://([^/]+) ]] || continue
    hp=${'$'}{BASH_REMATCH[1]}
    if [[ $hp =~ ^\[(.*)\]:([0-9]+)$ || $hp =~ ^([^:]+):([0-9]+)$ ]]; then host=${'$'}{BASH_REMATCH[1]} port=${'$'}{BASH_REMATCH[2]}; else continue; fi
    { exec {fd}<>"/dev/tcp/$host/$port"; } 2>/dev/null || continue
    printf 'POST /v3/lease/revoke HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$hp" "${'$'}{#body}" "$body" >&$fd 2>/dev/null
    status=; IFS= read -r -t 2 status <&$fd
    exec {fd}>&-
    if [[ $status == HTTP/1.?' 200 '* ]]; then say "revoked $lease"; return 0; fi
  done
  say "norevoke $lease"
  return 1
}
# The CLI is gone: nothing will renew the deadline or stop the group but this.
orphaned() {
  if [[ -n $pgid ]]; then kill -KILL -- "-$pgid" 2>/dev/null; say "kill $pgid"; fi
  if [[ -n $lease ]]; then
    # The key must outlive the command: revoke only once the group is gone.
    while [[ -n $grp ]] && alive "$grp"; do
      now
      if [[ -z $kill ]] || (( NOW >= kill )); then say "norevoke $lease"; exit 0; fi
      kill -KILL -- "-$grp" 2>/dev/null
      sleep 0.005
    done
    revoke
  fi
  exit 0
}
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
    part=; IFS= read -r -t "$tmo" part; rc=$?
  else
    part=; IFS= read -r part; rc=$?
  fi
  buf+=$part
  (( rc > 128 )) && continue
  (( rc != 0 )) && orphaned
  msg=($buf); buf=
  case "${'$'}{msg[0]-}:${'$'}{#msg[@]}" in
    G:2) [[ ${'$'}{msg[1]} =~ ^[0-9]+$ ]] && { pgid=${'$'}{msg[1]}; grp=$pgid; sent=; say "guard $pgid"; } ;;
    D:3) [[ ${'$'}{msg[1]} =~ ^[0-9]+$ && ${'$'}{msg[2]} =~ ^[0-9]+$ ]] && { term=${'$'}{msg[1]}; kill=${'$'}{msg[2]}; } ;;
    L:2) [[ ${'$'}{msg[1]} =~ ^[0-9]+$ ]] && { lease=${'$'}{msg[1]}; [[ $lease == 0 ]] && lease=; } ;;
    R:1) pgid= grp= term= kill= sent= ;;
  esac
done
`;
