## conf/apache: the Apache 2.4 snippets, installed as examples (never into
## the live Apache configuration). antireplay-proxy-fcgi.conf: mod_proxy_fcgi
## to the pool's unix socket; antireplay-fcgid.conf: mod_fcgid starts and
## supervises the app itself. tests/e2e/test_apache_*.sh read them.
examplesapachedir = $(docdir)/examples/apache
dist_examplesapache_DATA = \
	conf/apache/antireplay-proxy-fcgi.conf \
	conf/apache/antireplay-fcgid.conf \
	conf/apache/antireplay-gate.conf \
	conf/apache/antireplay-gate-provider.conf
