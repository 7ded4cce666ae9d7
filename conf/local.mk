## conf/: example configurations, installed under $(docdir)/examples and
## never into $(sysconfdir), so an install does not overwrite a live
## /etc/antireplay/antireplay.conf. The e2e tests read these files.
examplesdir = $(docdir)/examples
dist_examples_DATA = conf/antireplay.conf
examplesnginxdir = $(docdir)/examples/nginx
dist_examplesnginx_DATA = conf/nginx/antireplay.conf \
	conf/nginx/antireplay-gate.conf conf/nginx/antireplay-gate-log.conf \
	conf/nginx/antireplay-upstream.conf conf/nginx/antireplay-storefront.conf
examplesredisdir = $(docdir)/examples/redis
dist_examplesredis_DATA = conf/redis/antireplay-redis.conf conf/redis/antireplay-sentinel.conf
