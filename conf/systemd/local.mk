## conf/systemd/: unit files, installed as examples (never into
## /etc/systemd or /lib/systemd: the admin copies and adapts them, see the
## comments in each). tests/integration/test_systemd_units.sh checks them
## with systemd-analyze verify.
examplessystemddir = $(docdir)/examples/systemd
dist_examplessystemd_DATA = \
	conf/systemd/antireplay.socket \
	conf/systemd/antireplay.service \
	conf/systemd/antireplay-spawn-fcgi.service \
	conf/systemd/antireplay-drain.service
