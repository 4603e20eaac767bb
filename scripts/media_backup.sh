#!/usr/bin/env bash
# Media backup with hashes: scripts/media_backup.sh DEST
#
# Copies SMS_MEDIA_ROOT (photos, report snapshots: countries/<schema>/...) to
# DEST/<UTC time>/files/ — hard links to the previous copy for files that did
# not change (stored files are never rewritten), so each copy is whole but
# costs only the new files — and writes DEST/<UTC time>/SHA256SUMS, the
# SHA-256 of every file. DEST/latest points at the newest copy; the newest
# SMS_MEDIA_BACKUP_KEEP (default 14) are kept. Check a copy with
#   cd DEST/<time>/files && sha256sum --quiet -c ../SHA256SUMS
# (with SMS_S3_BUCKET the media are in the bucket: use its versioning and
# replication instead). Put DEST on an encrypted volume, or another machine.
set -euo pipefail

dest=${1:?usage: media_backup.sh DEST}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
media=${SMS_MEDIA_ROOT:-$root/var/media}
keep=${SMS_MEDIA_BACKUP_KEEP:-14}

if [ -n "${SMS_S3_BUCKET:-}" ]; then
	echo "media_backup: media are in the S3 bucket $SMS_S3_BUCKET: nothing to copy here" >&2
	exit 0
fi
mkdir -p "$media" "$dest"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
snapshot="$dest/$stamp"
mkdir "$snapshot"
if [ -d "$dest/latest/files" ] && command -v rsync >/dev/null; then
	rsync -a --link-dest="$(readlink -f "$dest/latest/files")" "$media/" "$snapshot/files/"
else
	cp -a "$media/." "$snapshot/files/"
fi
(cd "$snapshot/files" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
	>"$snapshot/SHA256SUMS"
# The copy is checked against the hashes before it counts as the latest.
[ ! -s "$snapshot/SHA256SUMS" ] || (cd "$snapshot/files" && sha256sum --quiet --strict -c ../SHA256SUMS) ||
	{
		echo "media_backup: the copy in $snapshot does not match its hashes" >&2
		exit 1
	}
ln -sfn "$stamp" "$dest/latest"
# Oldest copies beyond $keep go (names sort by time).
find "$dest" -mindepth 1 -maxdepth 1 -type d -name '20*Z' | LC_ALL=C sort | head -n "-$keep" |
	xargs -r rm -rf
echo "media_backup: $(wc -l <"$snapshot/SHA256SUMS") files in $snapshot, SHA-256 in $snapshot/SHA256SUMS" >&2
