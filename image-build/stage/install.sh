#!/bin/sh
# The install stage of the kiosk image: turns a Debian bookworm root (Raspberry
# Pi OS Lite from rpi-image-gen, or plain Debian from mmdebstrap in the tests)
# into the kiosk. Runs on the build host as root, as a customize hook:
#
#   image-build/stage/install.sh ROOT
#
# Everything inside the root runs through chroot (qemu-user via binfmt when
# the root is arm64), offline: pip installs from the wheelhouse with
# --no-index; the models are copied and verified against the manifest the
# installed package carries.
#
# Environment (image-build/README.md explains each):
#   WHEELHOUSE  wheels for the root's architecture (`make wheelhouse`)   required
#   BOARD       a folder of hardware/ (config.txt lines, asound.conf)    required
#   SITE        the operator's site folder (appliance.toml, knowledge)   required
#   MODELS      where the models are (default: models/ of this checkout)
#   RPI=1       Raspberry Pi OS: /boot/firmware/config.txt must exist already
#   STATE=ram   writable state in RAM (tmpfs of STATE_SIZE, default 64M), or
#   STATE=partition  on the ext4 partition labelled appliance-state
#   SSH=1       keep an installed ssh server (default: masked)
#   LOGIN=1     keep accounts that have a password (default: locked)
set -eu

fail() { echo "install stage: $*" >&2; exit 1; }

ROOT=${1:-}
[ -n "$ROOT" ] && [ -d "$ROOT/etc" ] || fail "usage: install.sh ROOT (a Debian root file system)"
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WHEELHOUSE=${WHEELHOUSE:-}
BOARD=${BOARD:-}
SITE=${SITE:-}
MODELS=${MODELS:-$REPO/models}
RPI=${RPI:-0}
STATE=${STATE:-ram}
STATE_SIZE=${STATE_SIZE:-64M}
SSH=${SSH:-0}
LOGIN=${LOGIN:-0}
VENV=/opt/appliance/venv
STATE_DIR=/var/lib/appliance/state
BEGIN_MARK="# >>> appliance image: written by the install stage"
END_MARK="# <<< appliance image"

in_root() {
    chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"
}

# Replace (or add) this stage's block in a file, so a second run changes nothing.
put_block() {
    file=$1
    block=$2
    mkdir -p "$(dirname "$file")"
    touch "$file"
    sed -i "/^$BEGIN_MARK\$/,/^$END_MARK\$/d" "$file"
    printf '%s\n%s\n%s\n' "$BEGIN_MARK" "$block" "$END_MARK" >>"$file"
}

# --- inputs -------------------------------------------------------------------
[ -n "$BOARD" ] && [ -d "$REPO/hardware/$BOARD" ] || fail "BOARD='$BOARD' is not a folder of hardware/ (one of: $(
    cd "$REPO/hardware" && find . -mindepth 1 -maxdepth 1 -type d -printf '%f ' ))"
[ -n "$SITE" ] && [ -d "$SITE" ] || fail "SITE='$SITE' is not a folder (the site's appliance.toml and knowledge file)"
[ -n "$WHEELHOUSE" ] && ls "$WHEELHOUSE"/appliance-*.whl >/dev/null 2>&1 \
    || fail "WHEELHOUSE='$WHEELHOUSE' holds no appliance wheel (make wheelhouse on the target architecture)"
case "$STATE" in ram|partition) ;; *) fail "STATE='$STATE': expected ram or partition" ;; esac
root_arch=$(in_root uname -m)
ls "$WHEELHOUSE"/llama_cpp_python-*"_$root_arch.whl" >/dev/null 2>&1 \
    || fail "WHEELHOUSE='$WHEELHOUSE' has no llama_cpp_python wheel for $root_arch (the root's architecture)"
missing=""
for package in $(grep -v '^#' "$HERE/packages"); do
    in_root dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $package"
done
[ -z "$missing" ] || fail "the root lacks Debian packages:$missing (see image-build/stage/packages)"
if [ "$RPI" = 1 ]; then
    [ -f "$ROOT/boot/firmware/config.txt" ] || fail "RPI=1 but the root has no /boot/firmware/config.txt"
fi

# --- the kiosk's user, directories and units -------------------------------
install -D -m 0644 "$REPO/systemd/appliance.sysusers.conf" "$ROOT/usr/lib/sysusers.d/appliance.conf"
install -D -m 0644 "$REPO/systemd/appliance.tmpfiles.conf" "$ROOT/usr/lib/tmpfiles.d/appliance.conf"
install -D -m 0644 "$REPO/systemd/appliance.service" "$ROOT/etc/systemd/system/appliance.service"
install -D -m 0644 "$HERE/appliance-image.conf" "$ROOT/etc/systemd/system/appliance.service.d/image.conf"
install -D -m 0644 "$HERE/appliance-firstboot.service" "$ROOT/etc/systemd/system/appliance-firstboot.service"
in_root systemd-sysusers /usr/lib/sysusers.d/appliance.conf
in_root systemd-tmpfiles --create /usr/lib/tmpfiles.d/appliance.conf
install -d -m 0750 "$ROOT$STATE_DIR"
in_root chown appliance:appliance "$STATE_DIR"

# --- the package: a venv from the wheelhouse, offline ------------------------
rm -rf "$ROOT/opt/appliance/wheels"
mkdir -p "$ROOT/opt/appliance"
cp -r "$WHEELHOUSE" "$ROOT/opt/appliance/wheels"
in_root python3 -m venv "$VENV"
in_root "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-index \
    --find-links /opt/appliance/wheels appliance
rm -rf "$ROOT/opt/appliance/wheels"
# The documents the unit and doctor point to (Documentation=file:///opt/appliance/src/...).
for doc in README.md systemd/README.md hardware/README.md "hardware/$BOARD/README.md" image-build/README.md; do
    install -D -m 0644 "$REPO/$doc" "$ROOT/opt/appliance/src/$doc"
done

# --- models, verified inside the root against the package's manifest ----------
device_models=$(in_root "$VENV/bin/python" -c '
from appliance.models import load_manifest
print(" ".join(entry.file for entry in load_manifest() if not entry.for_tests))')
for model in $device_models; do
    if [ -e "$MODELS/$model" ]; then
        rm -rf "$ROOT/var/lib/appliance/models/$model"
        cp -r "$MODELS/$model" "$ROOT/var/lib/appliance/models/$model"
    fi
done
in_root chown -R appliance:appliance /var/lib/appliance/models
in_root chmod -R u=rwX,g=rX,o= /var/lib/appliance/models
verified=$(in_root runuser -u appliance -- "$VENV/bin/appliance" models --dir /var/lib/appliance/models \
    verify 2>&1) || { echo "$verified" | grep -v '^ok ' >&2
    fail "the models in $MODELS do not match the manifest (run \`appliance models install\` there)"; }

# --- board: config.txt lines and asound.conf ---------------------------------
put_block "$ROOT/boot/firmware/config.txt" "$(cat "$REPO/hardware/$BOARD/config.txt")"
install -m 0644 "$REPO/hardware/$BOARD/asound.conf" "$ROOT/etc/asound.conf"
echo "$BOARD" >"$ROOT/etc/appliance/board"

# --- site: the board's configuration unless the site brings its own, then every file of the site
install -m 0644 "$REPO/hardware/$BOARD/appliance.toml" "$ROOT/etc/appliance/appliance.toml"
find "$SITE" -maxdepth 1 -type f -exec install -m 0644 -t "$ROOT/etc/appliance" {} +
in_root "$VENV/bin/appliance" config check /etc/appliance/appliance.toml >/dev/null \
    || fail "the site's configuration is not valid (the line above names the key)"

# --- a kiosk: read-only root, bounded writable state, no way in --------------
# The writable places are mount units, not fstab lines: an image builder may
# write its own fstab after this stage (rpi-image-gen does, at image time).
mount_unit() {  # WHERE WHAT TYPE OPTIONS
    unit=$(in_root systemd-escape --path --suffix=mount "$1")
    cat >"$ROOT/etc/systemd/system/$unit" <<EOF
# Written by the appliance install stage: the root is read-only.
[Unit]
Description=Writable $1 on the read-only kiosk
[Mount]
What=$2
Where=$1
Type=$3
Options=$4
[Install]
WantedBy=local-fs.target
EOF
    in_root systemctl enable --quiet "$unit"
}
mount_unit /tmp tmpfs tmpfs nosuid,nodev,size=64M,mode=1777
mount_unit /var/tmp tmpfs tmpfs nosuid,nodev,size=16M,mode=1777
mount_unit /var/log tmpfs tmpfs nosuid,nodev,noexec,size=16M,mode=0755
if [ "$STATE" = ram ]; then
    mount_unit "$STATE_DIR" tmpfs tmpfs \
        "nosuid,nodev,noexec,size=$STATE_SIZE,mode=0750,uid=$(in_root id -u appliance),gid=$(in_root id -g appliance)"
else
    mount_unit "$STATE_DIR" /dev/disk/by-label/appliance-state ext4 nosuid,nodev,noexec,noatime
fi
# The kernel mounts the root read-only (no `rw` on its command line); masking
# systemd-remount-fs keeps it so whatever the builder's fstab says.
in_root systemctl mask --quiet systemd-remount-fs.service
if [ -f "$ROOT/boot/firmware/cmdline.txt" ]; then
    awk '{ line = ""; for (i = 1; i <= NF; i++) if ($i != "rw" && $i != "ro") line = line $i " "
           print line "ro" }' "$ROOT/boot/firmware/cmdline.txt" >"$ROOT/boot/firmware/cmdline.txt.new"
    mv "$ROOT/boot/firmware/cmdline.txt.new" "$ROOT/boot/firmware/cmdline.txt"
fi
install -D -m 0644 "$HERE/journald.conf" "$ROOT/etc/systemd/journald.conf.d/appliance.conf"
# An empty machine-id: systemd makes a transient one at each boot of a read-only root.
: >"$ROOT/etc/machine-id"
if [ "$SSH" != 1 ]; then
    in_root systemctl mask --quiet ssh.service ssh.socket sshd.service
fi
if [ "$LOGIN" != 1 ]; then
    for user in $(awk -F: '$2 !~ /^[!*]/ && $2 != "" { print $1 }' "$ROOT/etc/shadow"); do
        in_root passwd --quiet --lock "$user"
    done
fi
in_root systemctl enable --quiet appliance.service appliance-firstboot.service
echo "install stage: $BOARD kiosk installed in $ROOT ($root_arch, state in $STATE)"
