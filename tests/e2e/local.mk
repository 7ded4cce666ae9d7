## tests/e2e: real web servers in front of the app, driven with curl.
## scenario.sh is the contract over HTTP, shared by every front.
TESTS += tests/e2e/test_nginx.sh
dist_check_SCRIPTS += tests/e2e/test_nginx.sh
## tests/lib/front.sh: a web server on a free port, for every front's
## fixtures (nginx.sh, apache.sh, lighttpd.sh).
EXTRA_DIST += tests/e2e/nginx.sh tests/e2e/http.sh tests/e2e/scenario.sh tests/lib/front.sh
## Many app hosts on one Redis: two pools behind one nginx upstream
## (conf/nginx/antireplay-upstream.conf), one of them under libfaketime.
TESTS += tests/e2e/test_many_hosts.sh
dist_check_SCRIPTS += tests/e2e/test_many_hosts.sh
## The storefront in headless Chromium (tests/e2e/browser.py drives it):
## double clicks, a lost answer, Redis down, the plain HTML form.
TESTS += tests/e2e/test_browser.sh
dist_check_SCRIPTS += tests/e2e/test_browser.sh
EXTRA_DIST += tests/e2e/browser.py
## The storefront is installed as it is in the tree, next to the client:
## $(pkgdatadir)/storefront (/usr/share/antireplay/storefront, not under
## doc/, where Debian would compress the larger files).
storefrontdir = $(pkgdatadir)/storefront
dist_storefront_DATA = \
	storefront/index.html storefront/shop.js storefront/shop.css \
	storefront/words.js storefront/order-form.html storefront/order.html \
	storefront/order.js storefront/error.html storefront/error.js \
	storefront/products.js
## The test's screenshot (docs/storefront.png is a copy made by hand).
CLEANFILES += tests/e2e/storefront.png
