## conf/lighttpd: the two lighttpd snippets (a pool on a unix socket, and
## lighttpd spawning the app itself with bin-path). Installed as examples;
## tests/e2e/test_lighttpd_*.sh read them as shipped.
exampleslighttpddir = $(docdir)/examples/lighttpd
dist_exampleslighttpd_DATA = \
	conf/lighttpd/antireplay-socket.conf \
	conf/lighttpd/antireplay-binpath.conf \
	conf/lighttpd/antireplay-gate.conf
