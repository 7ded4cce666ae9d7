// storefront/words.js: what each error code of the API means, in plain
// words for shoppers (README "Errors"). Shared by the shop and error.html.
const WORDS = {
	out_of_stock: 'There is not enough in stock for that quantity. Pick fewer, or another product.',
	unknown_sku: 'This product is not sold any more.',
	token_reused: 'This purchase was already placed with different contents. Start a new purchase.',
	invalid_token: 'This purchase form has expired or is not valid. Start a new purchase.',
	duplicate_request: 'This purchase was already placed.',
	missing_token: 'The purchase form was incomplete. Start a new purchase.',
	malformed_token: 'The purchase form was damaged. Start a new purchase.',
	invalid_order: 'The order is not valid: check the quantity and your name.',
	rate_limited: 'Too many purchases in a short time. Wait a minute and try again.',
	unavailable: 'The shop cannot take orders right now. Try again in a moment.',
	request_in_progress: 'This purchase is still being placed. Try again in a moment.',
	body_too_large: 'The order is too large.',
	not_found: 'We could not find that order.',
	network_error: 'The shop could not be reached. Check your connection and try again.',
	timeout: 'The shop did not answer in time. Try again in a moment.',
};

// plainWords(code): the sentence for an error code; a general one for codes
// the page does not know (an nginx 502 is "http_502").
export function plainWords(code) {
	return WORDS[code] ?? 'Something went wrong on our side. Try again in a moment.';
}
