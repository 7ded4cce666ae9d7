/* accept: what a client's Accept header (RFC 9110, section 12.5.1) says it
 * prefers. Pure; malformed members are ignored, as servers commonly do.
 * (In the comments, "any/any" stands for the range written with two
 * asterisks, which cannot appear inside a C comment.) */
#ifndef AR_ACCEPT_H
#define AR_ACCEPT_H

/* The quality, in thousandths (0..1000), that accept gives type/subtype:
 * that of its most specific matching range (exact, then "type/any", then
 * any/any); 0 when none matches or accept is NULL. Names compare
 * case-insensitively; range parameters other than q are ignored. */
int accept_quality(const char *accept, const char *type, const char *subtype);

/* 1 when accept ranks text/html above application/json, as a browser's
 * navigation does ("text/html,...,any/any;q=0.8"); 0 for an API client
 * (no Accept, any/any, application/json) and for a tie. */
int accept_prefers_html(const char *accept);

#endif
