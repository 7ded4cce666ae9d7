## docs/: installed under $(docdir) next to README.md.
dist_doc_DATA += docs/design.md
dist_doc_DATA += docs/deploy.md
dist_doc_DATA += docs/security.md
dist_doc_DATA += docs/gate.md
dist_doc_DATA += docs/scale.md
dist_doc_DATA += docs/browser.md
dist_doc_DATA += docs/storefront.png
