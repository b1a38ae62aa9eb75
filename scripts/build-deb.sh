#!/usr/bin/env bash
# Builds the Debian package from a tree staged by `make install DESTDIR=STAGE PREFIX=/usr
# SYSTEMDUNITDIR=/lib/systemd/system` (what `make deb` does), with dpkg-deb alone.
#   scripts/build-deb.sh STAGE OUTPUT_DIRECTORY
# Prints the path of the .deb it wrote.
set -euo pipefail
stage=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$here/VERSION")
arch=$(dpkg --print-architecture)

# Debian policy: manual pages compressed with gzip -9n, binaries stripped.
find "$stage/usr/share/man" -type f -name '*.[1-9]' -exec gzip -9nf {} +
strip --strip-unneeded "$stage/usr/sbin/homing"

rm -rf "$stage/DEBIAN"
install -d -m 0755 "$stage/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$here/packaging/debian/$script" "$stage/DEBIAN/$script"
done
# Every file under /etc is a conffile: dpkg keeps the administrator's changes on upgrade and
# removes the files only on purge.
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') > "$stage/DEBIAN/conffiles"
chmod 0644 "$stage/DEBIAN/conffiles"
# The packages of the libraries the binary links (readelf -d: NEEDED), with the versions
# dpkg-shlibdeps derives on Debian 12: glibc, the C++ runtime the Swift runtime uses, libpq
# and libldap/liblber. PackagingTests checks that every NEEDED library is covered.
depends="libc6 (>= 2.35), libgcc-s1 (>= 3.3.1), libldap-2.5-0 (>= 2.5.4), libpq5 (>= 9.0~), libstdc++6 (>= 12)"
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$installed_size|" \
    -e "s|@DEPENDS@|$depends|" "$here/packaging/debian/control.in" > "$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    xargs md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/homing_${version}_${arch}.deb"
# gzip: xz takes minutes for the 70 MB binary on a busy 2-core machine, gzip seconds.
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$deb" >/dev/null
echo "$deb"
