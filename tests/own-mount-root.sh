#!/bin/sh
# Runs a command (buildah, podman) so that "/" is a mount point. Inside a chroot
# whose root is a plain directory (a build root; ../shared/fresh-machine.sh),
# containers/storage cannot unpack a layer: it remounts "/" private and the
# kernel answers EINVAL. There the command runs in its own mount namespace,
# chrooted into a bind mount of "/" (the same files), from the same directory.
# Anywhere else it just runs the command.
set -eu
if awk '$5 == "/" { found = 1 } END { exit !found }' /proc/self/mountinfo; then
  exec "$@"
fi
root=/run/cors-own-mount-root
mkdir -p "$root"
exec unshare --mount --propagation unchanged -- sh -c '
  root=$1 dir=$2; shift 2
  mount --rbind / "$root"
  exec chroot "$root" sh -c "cd \"\$1\" && shift && exec \"\$@\"" sh "$dir" "$@"
' sh "$root" "$PWD" "$@"
