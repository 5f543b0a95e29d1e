#!/bin/sh
# mesos_run.sh CGROUP FETCHLIST CMD: start a task the way a Mesos agent does.
#
#   CGROUP     a memory cgroup (v1) directory to join first, or - for none:
#              everything from here on (downloads, the unpacked cache, the app)
#              is charged to it, as to the task's container
#   FETCHLIST  - or a file of lines "URI<TAB>NAME<TAB>EXECUTABLE" (as printed by
#              marathon_rules.py fetch): each URI is downloaded into the sandbox
#              as NAME (redirects followed, must end in 200), mode 0755 when
#              EXECUTABLE is 1, nothing extracted: the Mesos fetcher's work
#   CMD        the task's cmd, run as Mesos runs it: /bin/sh -c CMD, in
#              $MESOS_SANDBOX, as the task's main process (exec)
#
# Plain POSIX sh and curl: it runs inside the no-Python sandbox of
# tests/e2e/lib.sh. Exit status: CMD's, or 125 when the cgroup or sandbox
# cannot be entered, 126 when a fetch fails (Mesos: TASK_FAILED before cmd).
cg=$1 list=$2 cmd=$3
if [ "$cg" != - ]; then
    echo $$ >"$cg/cgroup.procs" || { echo "mesos_run: cannot join the cgroup $cg" >&2; exit 125; }
fi
[ -n "${MESOS_SANDBOX:-}" ] || { echo "mesos_run: MESOS_SANDBOX is not set" >&2; exit 125; }
cd "$MESOS_SANDBOX" || { echo "mesos_run: cannot enter $MESOS_SANDBOX" >&2; exit 125; }
if [ "$list" != - ]; then
    tab=$(printf '\t')
    while IFS=$tab read -r uri name exe; do
        [ -n "$uri" ] || continue
        case $name in
            '' | /* | ../* | */../* | .. ) echo "fetcher: bad destination '$name'" >&2; exit 126 ;;
        esac
        curl -fsSL -o "$name" -- "$uri" || { echo "fetcher: failed to fetch '$uri'" >&2; exit 126; }
        if [ "$exe" = 1 ]; then chmod 0755 "$name" || exit 126; fi
    done <"$list"
fi
exec /bin/sh -c "$cmd"
