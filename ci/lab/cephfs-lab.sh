#!/usr/bin/env bash
# A single-node Ceph (mon, mgr, osd on a file, mds, CephFS volume) plus a client host: a network
# namespace with its own address and sshd. Everything lives under $LAB (default <repo>/lab/cephfs).
#   cephfs-lab.sh up | down | status | env
# Idempotent: `up` on a running lab only checks it; `down` on a stopped lab does nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=${CERTKIT_LAB_DIR:-$ROOT/lab/cephfs}
NETNS=${CERTKIT_LAB_NETNS:-certkit-client}
HOST_IF=ckc-host CLIENT_IF=ckc-client
HOST_IP=${CERTKIT_LAB_HOST_IP:-10.251.0.1} CLIENT_IP=${CERTKIT_LAB_CLIENT_IP:-10.251.0.2}
FSID_FILE=$LAB/fsid
CONF=$LAB/ceph.conf
TIMEOUT=${CERTKIT_LAB_TIMEOUT:-90}
PACKAGES="ceph-mon ceph-mgr ceph-osd ceph-mds ceph-fuse ceph-common python3-rados python3-cephfs
python3-ceph-argparse ceph-mgr-modules-core openssh-server openssh-client iproute2 procps
nfs-ganesha nfs-ganesha-ceph dbus sqlite3"

say() { printf 'lab: %s\n' "$*" >&2; }
# No `cmd | grep -q` under pipefail: grep exits at the first match, the writer may get SIGPIPE,
# and the pipeline then "fails" at random. Capture, then match.
contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
netns_exists() { contains " $(ip netns list 2>/dev/null | awk '{print $1}' | tr '\n' ' ') " " $NETNS "; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
ceph_cmd() { timeout 20 ceph -c "$CONF" -k "$LAB/client.admin.keyring" "$@"; }

install_packages() {
    local missing=()
    for p in $PACKAGES; do contains "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" "ok installed" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && { say "packages: all present"; return; }
    [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]}"
    local t; t=$(now)
    say "packages: installing ${missing[*]}"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LAB.apt.log" 2>&1 \
        || die "apt-get install failed; see $LAB.apt.log"
    say "packages: installed in $(elapsed "$t") s"
}

pid_alive() { local pid; pid=$(cat "$1" 2>/dev/null) || return 1; [ -r "/proc/$pid/stat" ] && ! grep -q ') Z ' "/proc/$pid/stat"; }

setup_network() {
    netns_exists || ip netns add "$NETNS"
    if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
        ip link add "$HOST_IF" type veth peer name "$CLIENT_IF"
        ip link set "$CLIENT_IF" netns "$NETNS"
    fi
    contains "$(ip addr show dev "$HOST_IF")" "$HOST_IP/" || ip addr add "$HOST_IP/24" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    ip netns exec "$NETNS" sh -c "ip addr show dev $CLIENT_IF | grep -q '$CLIENT_IP/' || ip addr add $CLIENT_IP/24 dev $CLIENT_IF; ip link set $CLIENT_IF up; ip link set lo up"
}

write_conf() {
    local fsid=$1
    cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = $HOST_IP:6789
public addr = $HOST_IP
ms bind msgr2 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
mon data avail warn = 2
mon data avail crit = 1
run dir = $LAB/run
log file = $LAB/log/\$name.log
admin socket = $LAB/run/\$name.asok
pid file = $LAB/run/\$name.pid
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 4294967296
osd memory target = 536870912
mgr initial modules = volumes
[mon.a]
mon data = $LAB/mon.a
keyring = $LAB/mon.a.keyring
[mgr.x]
mgr data = $LAB/mgr.x
keyring = $LAB/mgr.x/keyring
[osd.0]
osd data = $LAB/osd.0
keyring = $LAB/osd.0/keyring
[mds.a]
mds data = $LAB/mds.a
keyring = $LAB/mds.a/keyring
[client.admin]
keyring = $LAB/client.admin.keyring
[client.manila]
keyring = $LAB/client.manila.keyring
CONF
}

start_daemon() {  # name pidfile command...
    local name=$1 pidfile=$2; shift 2
    pid_alive "$pidfile" && return
    setsid "$@" </dev/null >>"$LAB/log/$name.stdout" 2>>"$LAB/log/$name.stderr" &
    echo $! >"$pidfile"
}

wait_for() {  # description seconds command...
    local what=$1 limit=$2; shift 2
    local deadline=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${limit}s waiting for $what (logs: $LAB/log)"
        sleep 0.3
    done
}

create_cluster() {
    local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
    echo "$fsid" >"$FSID_FILE"
    mkdir -p "$LAB"/{run,log,mgr.x,osd.0,mds.a}
    write_conf "$fsid"
    ceph-authtool --create-keyring "$LAB/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool --create-keyring "$LAB/client.admin.keyring" --gen-key -n client.admin \
        --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
    ceph-authtool "$LAB/mon.a.keyring" --import-keyring "$LAB/client.admin.keyring" >/dev/null
    monmaptool --create --clobber --fsid "$fsid" --add a "$HOST_IP:6789" "$LAB/monmap" >/dev/null
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$LAB/monmap" --keyring "$LAB/mon.a.keyring" \
        >>"$LAB/log/mon.a.mkfs" 2>&1 || die "ceph-mon --mkfs failed (see $LAB/log/mon.a.mkfs)"
    [ -d "$LAB/mon.a/store.db" ] || die "ceph-mon --mkfs left no store (see $LAB/log/mon.a.mkfs)"
}

start_cluster() {
    start_daemon mon.a "$LAB/run/mon.a.pid.bg" ceph-mon -c "$CONF" -i a -f
    wait_for "the monitor" 30 ceph_cmd mon stat
    if [ ! -s "$LAB/mgr.x/keyring" ]; then
        ceph_cmd auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o "$LAB/mgr.x/keyring"
    fi
    start_daemon mgr.x "$LAB/run/mgr.x.pid.bg" ceph-mgr -c "$CONF" -i x -f
    if [ ! -s "$LAB/osd.0/keyring" ]; then
        local uuid; uuid=$(cat /proc/sys/kernel/random/uuid)
        local secret; secret=$(ceph-authtool --gen-print-key)
        echo "{\"cephx_secret\": \"$secret\"}" >"$LAB/osd.0/new.json"
        ceph_cmd osd new "$uuid" -i "$LAB/osd.0/new.json" >/dev/null
        ceph-authtool --create-keyring "$LAB/osd.0/keyring" --name osd.0 --add-key "$secret" >/dev/null
        ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$uuid" >>"$LAB/log/osd.0.mkfs" 2>&1 \
            || die "ceph-osd --mkfs failed (see $LAB/log/osd.0.mkfs)"
    fi
    start_daemon osd.0 "$LAB/run/osd.0.pid.bg" ceph-osd -c "$CONF" -i 0 -f
    if [ ! -s "$LAB/mds.a/keyring" ]; then
        ceph_cmd auth get-or-create mds.a mon 'allow profile mds' osd 'allow rw tag cephfs *=*' \
            mds 'allow' mgr 'allow profile mds' -o "$LAB/mds.a/keyring"
    fi
    start_daemon mds.a "$LAB/run/mds.a.pid.bg" ceph-mds -c "$CONF" -i a -f
    wait_for "the mgr volumes module" 60 ceph_cmd fs volume ls
    if ! contains "$(ceph_cmd fs ls 2>/dev/null)" "name: cephfs"; then
        ceph_cmd fs volume create cephfs >/dev/null 2>&1
    fi
    ceph_cmd fs set cephfs standby_count_wanted 0 >/dev/null 2>&1 || true
    wait_for "an active MDS" "$TIMEOUT" sh -c "ceph -c '$CONF' -k '$LAB/client.admin.keyring' fs status cephfs 2>/dev/null | grep -q active"
    wait_for "all placement groups active" "$TIMEOUT" pgs_active
    wait_for "HEALTH_OK" "$TIMEOUT" sh -c "ceph -c '$CONF' -k '$LAB/client.admin.keyring' health 2>/dev/null | grep -q HEALTH_OK"
    # The identity Manila's driver uses (manila's documented caps for the native driver).
    if [ ! -s "$LAB/client.manila.keyring" ]; then
        ceph_cmd auth get-or-create client.manila mon 'allow r' mgr 'allow rw' -o "$LAB/client.manila.keyring"
    fi
    chmod 0644 "$LAB/client.manila.keyring"
}

pgs_active() {
    local out; out=$(ceph_cmd pg stat 2>/dev/null) || return 1
    contains "$out" " active+clean;" || return 1
    local total active
    total=$(echo "$out" | sed -E 's/^([0-9]+) pgs:.*/\1/')
    active=$(echo "$out" | sed -E 's/^[0-9]+ pgs: ([0-9]+) active\+clean.*/\1/')
    [ "$total" -gt 0 ] && [ "$total" = "$active" ]
}

setup_client() {
    local ssh=$LAB/ssh
    mkdir -p "$ssh" /run/sshd
    chmod 0700 "$ssh"
    [ -s "$ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_ed25519" -C certkit-lab-host
    [ -s "$ssh/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$ssh/client_ed25519" -C certkit-lab-client
    cp "$ssh/client_ed25519.pub" "$ssh/authorized_keys"
    echo "$CLIENT_IP $(cut -d' ' -f1,2 "$ssh/host_ed25519.pub")" >"$ssh/known_hosts"
    cat >"$ssh/sshd_config" <<SSHD
ListenAddress $CLIENT_IP
Port 22
HostKey $ssh/host_ed25519
PidFile $LAB/run/sshd.pid
AuthorizedKeysFile $ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
SSHD
    if ! pid_alive "$LAB/run/sshd.pid"; then
        ip netns exec "$NETNS" /usr/sbin/sshd -f "$ssh/sshd_config" -E "$LAB/log/sshd.log" \
            || die "sshd did not start in $NETNS (see $LAB/log/sshd.log)"
    fi
    # What the client needs to mount: a ceph.conf naming the monitor.
    mkdir -p "$LAB/client"
    printf '[global]\nmon host = %s:6789\nms bind msgr2 = false\n' "$HOST_IP" >"$LAB/client/ceph.conf"
    wait_for "sshd in $NETNS" 15 ip netns exec "$NETNS" bash -c "exec 3<>/dev/tcp/$CLIENT_IP/22"
}

start_ganesha() {
    # NFS-Ganesha with FSAL_CEPH for the cephfs-nfs profile; Manila's Ganesha helper drives it
    # over the D-Bus system bus (started here when the machine has none).
    local g=$LAB/ganesha
    mkdir -p "$g/export.d" "$g/recovery" /run/dbus
    [ -e "$g/export.d/INDEX.conf" ] || : >"$g/export.d/INDEX.conf"
    if [ ! -S /run/dbus/system_bus_socket ]; then
        dbus-daemon --system --fork --print-pid >"$LAB/run/dbus.pid" 2>>"$LAB/log/dbus.log" \
            || die "cannot start a D-Bus system bus (see $LAB/log/dbus.log)"
    fi
    cat >"$g/ganesha.conf" <<GANESHA
NFS_CORE_PARAM {
    Protocols = 4;
    NFS_Port = 2049;
    Bind_addr = $HOST_IP;
    Enable_NLM = false;
    Enable_RQUOTA = false;
}
NFSv4 {
    RecoveryBackend = fs;
    RecoveryRoot = $g/recovery;
    Graceless = true;
    Minor_Versions = 1, 2;
}
%include $g/export.d/INDEX.conf
GANESHA
    if ! pid_alive "$LAB/run/ganesha.pid"; then
        # FSAL_CEPH finds the cluster through CEPH_CONF (its CEPH block is read only at start).
        CEPH_CONF=$CONF ganesha.nfsd -f "$g/ganesha.conf" -L "$LAB/log/ganesha.log" \
            -p "$LAB/run/ganesha.pid" -N NIV_EVENT || die "ganesha.nfsd did not start (see $LAB/log/ganesha.log)"
    fi
    wait_for "NFS-Ganesha on D-Bus" 20 dbus-send --print-reply --system --dest=org.ganesha.nfsd \
        /org/ganesha/nfsd/ExportMgr org.ganesha.nfsd.exportmgr.ShowExports
}

python_bindings() {
    # Debian's rados/cephfs/ceph_argparse modules (built for CPython 3.11) for the venv's Python.
    local lib=$LAB/pylib
    mkdir -p "$lib"
    for f in /usr/lib/python3/dist-packages/rados*.so /usr/lib/python3/dist-packages/cephfs*.so \
             /usr/lib/python3/dist-packages/ceph_argparse.py; do
        [ -e "$f" ] && ln -sf "$f" "$lib/"
    done
}

cmd_up() {
    [ "$(id -u)" = 0 ] || die "the lab needs root (network namespaces, packages)"
    local t0; t0=$(now)
    mkdir -p "$LAB"
    install_packages
    local t1; t1=$(now)
    setup_network
    if [ ! -s "$FSID_FILE" ]; then create_cluster; fi
    start_cluster
    setup_client
    start_ganesha
    python_bindings
    say "up: cluster $(cat "$FSID_FILE") healthy, client host $NETNS at $CLIENT_IP (ssh)"
    say "figures: packages $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s, cluster+client $(elapsed "$t1") s, total $(elapsed "$t0") s"
}

kill_pidfile() {
    local f=$1 pid
    pid=$(cat "$f" 2>/dev/null) || return 0
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
}

cmd_down() {
    local t0; t0=$(now)
    # Client side first: FUSE mounts and the processes in the namespace.
    if netns_exists; then
        for pid in $(ip netns pids "$NETNS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    fi
    pkill -9 -f "ceph-fuse.*$LAB" 2>/dev/null || true
    { grep " fuse.ceph-fuse " /proc/mounts || true; } | awk '{print $2}' | { grep "^$LAB" || true; } \
        | while read -r m; do umount -l "$m" || true; done
    if [ -d "$LAB/run" ]; then
        for f in "$LAB"/run/*.pid.bg "$LAB/run/sshd.pid" "$LAB/run/ganesha.pid"; do
            [ -e "$f" ] && kill_pidfile "$f"
        done
        if [ -e "$LAB/run/dbus.pid" ]; then  # the bus this lab started (none was running)
            kill_pidfile "$LAB/run/dbus.pid"
            rm -f /run/dbus/system_bus_socket /run/dbus/pid
        fi
    fi
    pkill -9 -f -- "-c $CONF" 2>/dev/null || true
    ip link del "$HOST_IF" 2>/dev/null || true
    ip netns del "$NETNS" 2>/dev/null || true
    # The daemons' files go too: a lab is always built fresh.
    local deadline=$(( $(date +%s) + 10 ))
    while pgrep -f -- "-c $CONF" >/dev/null 2>&1 && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    rm -rf "$LAB"
    say "down: nothing left running ($(elapsed "$t0") s)"
}

cmd_status() {
    [ -s "$CONF" ] || { echo "cephfs lab: down"; return 3; }
    local health; health=$(ceph_cmd health 2>/dev/null || echo unreachable)
    local ssh=down; pid_alive "$LAB/run/sshd.pid" && ssh=up
    echo "cephfs lab: $health; client host $NETNS $CLIENT_IP sshd $ssh; dir $LAB"
    [ "${health%% *}" = HEALTH_OK ] && [ "$ssh" = up ]
}

cmd_env() {
    cat <<ENV
CERTKIT_CEPH_CONF=$CONF
CERTKIT_CEPH_AUTH_ID=manila
CERTKIT_CEPH_KEYRING=$LAB/client.manila.keyring
CERTKIT_CEPH_CLIENT_CONF=$LAB/client/ceph.conf
CERTKIT_CLIENT_HOST=$CLIENT_IP
CERTKIT_CLIENT_KEY=$LAB/ssh/client_ed25519
CERTKIT_CLIENT_KNOWN_HOSTS=$LAB/ssh/known_hosts
CERTKIT_LAB_PYLIB=$LAB/pylib
ENV
}

case "${1:-}" in
    up) cmd_up ;; down) cmd_down ;; status) cmd_status ;; env) cmd_env ;;
    *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
