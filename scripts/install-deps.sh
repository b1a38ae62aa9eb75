#!/usr/bin/env bash
# Installs the Debian packages Homing needs.
#   scripts/install-deps.sh build   what building Homing needs (C libraries for the userdb drivers)
#   scripts/install-deps.sh test    the above plus the real servers the test suite starts
set -euo pipefail
what=${1:-build}
build_pkgs=(libpq-dev libldap2-dev pkg-config swaks)
# systemd: systemd-analyze verify of the unit; systemd-container: systemd-nspawn, to boot a
# throwaway systemd machine for the package's service test; logrotate: the shipped snippet;
# util-linux: prlimit for the file-descriptor test. dovecot-core, dovecot-lmtpd: the mixed
# Dovecot/Homing fleet tests (they run a private instance; the packaged service is not needed).
test_pkgs=(postgresql slapd ldap-utils postfix dovecot-core dovecot-lmtpd procps util-linux systemd systemd-container logrotate)
pkgs=("${build_pkgs[@]}")
if [ "$what" = test ]; then pkgs+=("${test_pkgs[@]}"); fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    # Postfix asks no questions this way; the tests run their own private instance.
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
    echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # apt starts the packaged Dovecot; the tests use their own instances (own base_dir and
    # ports) and do not need it listening on 24, 143 and 110.
    if [[ " ${missing[*]} " == *" dovecot-core "* ]] && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now dovecot.service dovecot.socket 2>/dev/null || true
    fi
fi
