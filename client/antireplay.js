// antireplay.js: the browser and Node 18+ client of antireplay's HTTP API
// (README.md, "API"). One ES module, no dependencies, no DOM: it fetches a
// token, sends an order with an Idempotency-Key, and retries transient
// failures with the same key. What a page does with the promise is its own.

const DEFAULTS = {
	attempts: 8, // requests per call, the first one included
	baseDelayMs: 200, // the first retry waits up to this long
	maxDelayMs: 5000, // no backoff delay is longer (Retry-After may be)
	budgetMs: 30000, // no retry is started past this since the call began
	timeoutMs: 10000, // one request (response and body), at most
};

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

// An error of this client: switch on `code`, the server's `error` member
// (e.g. out_of_stock), or http_<status> for a body that is not ours, or one
// of network_error, timeout, aborted, invalid_response, malformed_token.
export class AntireplayError extends Error {
	constructor(message, { status = 0, code, details = null, key = null, retryable = false, retryAfterMs = null, cause } = {}) {
		super(message, cause === undefined ? undefined : { cause });
		this.name = 'AntireplayError';
		this.status = status; // the HTTP status; 0 when no response came
		this.code = code;
		this.details = details; // the parsed error body (sku, available, order_id...)
		this.key = key; // the Idempotency-Key that was sent, to retry with later
		this.retryable = retryable; // true: the same call may succeed later
		this.retryAfterMs = retryAfterMs; // the server's Retry-After, if any
	}
}

// Retry-After: delta seconds or an HTTP-date; milliseconds from now, or null.
function parseRetryAfter(value, nowMs) {
	if (value === null || value === undefined) return null;
	const v = String(value).trim();
	if (/^\d+$/.test(v)) return Number(v) * 1000;
	const at = Date.parse(v);
	if (Number.isNaN(at)) return null;
	return Math.max(0, at - nowMs);
}

// The Idempotency-Key header value: the bare form when it is one, else the
// quoted (structured-field string) form. Throws on what no form can carry.
function keyHeader(key) {
	if (typeof key !== 'string' || key.length === 0 || !/^[\x20-\x7e]+$/.test(key))
		throw new AntireplayError('the key must be 1 or more printable ASCII characters', {
			code: 'malformed_token', key: typeof key === 'string' ? key : null,
		});
	if (/^[\x21-\x7e]+$/.test(key) && !/[,"]/.test(key)) return key;
	return '"' + key.replace(/[\\"]/g, '\\$&') + '"';
}

// A version 4 UUID from getRandomValues, for pages that lack randomUUID
// (it needs a secure context: HTTPS or localhost).
function uuidFromRandomValues(crypto) {
	const b = crypto.getRandomValues(new Uint8Array(16));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function defaultSleep(ms, signal) {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason);
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal.reason);
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

function abortedError(signal, key) {
	return new AntireplayError('the request was aborted', { code: 'aborted', key, cause: signal.reason });
}

// createClient(options): the client. options: baseUrl ('/api'), keys
// ('issued': a token from POST /tokens; 'client': crypto.randomUUID()),
// headers (sent on every request, e.g. an identity), the retry bounds
// (attempts, baseDelayMs, maxDelayMs, budgetMs, timeoutMs), and for tests
// fetch, crypto, random, sleep(ms, signal), now.
export function createClient(options = {}) {
	const baseUrl = String(options.baseUrl ?? '/api').replace(/\/+$/, '');
	const keys = options.keys ?? 'issued';
	if (keys !== 'issued' && keys !== 'client') throw new TypeError(`keys must be 'issued' or 'client', not ${keys}`);
	const fetchFn = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
	const random = options.random ?? Math.random;
	const sleep = options.sleep ?? defaultSleep;
	const now = options.now ?? Date.now;
	const extraHeaders = options.headers ?? {};
	const limitsOf = (opts) => {
		const l = {};
		for (const name of Object.keys(DEFAULTS)) l[name] = opts[name] ?? options[name] ?? DEFAULTS[name];
		return l;
	};

	// One request: resolves { status, data } for a 2xx with a JSON body;
	// rejects with an AntireplayError, retryable when worth another try.
	async function once(method, path, { body, key, signal, timeoutMs }) {
		const headers = { Accept: 'application/json', ...extraHeaders };
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		if (key !== undefined) headers['Idempotency-Key'] = keyHeader(key);
		// One controller per request: the caller's signal or our timeout ends it.
		const ctl = new AbortController();
		const onAbort = () => ctl.abort(signal.reason);
		signal?.addEventListener('abort', onAbort, { once: true });
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			ctl.abort();
		}, timeoutMs);
		let res;
		let text;
		try {
			res = await fetchFn(baseUrl + path, {
				method, headers, signal: ctl.signal,
				body: body === undefined ? undefined : JSON.stringify(body),
			});
			text = await res.text();
		} catch (err) {
			if (signal?.aborted) throw abortedError(signal, key);
			if (timedOut)
				throw new AntireplayError(`no answer within ${timeoutMs} ms`, { code: 'timeout', key, retryable: true, cause: err });
			throw new AntireplayError('network error: ' + (err?.message ?? err), { code: 'network_error', key, retryable: true, cause: err });
		} finally {
			clearTimeout(timer);
			signal?.removeEventListener('abort', onAbort);
		}
		let data = null;
		try {
			data = JSON.parse(text);
		} catch {
			// not JSON: an nginx error page, say
		}
		const ours = data !== null && typeof data === 'object' && !Array.isArray(data);
		if (res.status >= 200 && res.status < 300) {
			if (!ours)
				throw new AntireplayError(`HTTP ${res.status} without a JSON object`, { status: res.status, code: 'invalid_response', key });
			return { status: res.status, headers: res.headers, data };
		}
		const isError = ours && typeof data.error === 'string';
		const code = isError ? data.error : `http_${res.status}`;
		const retryable = TRANSIENT_STATUS.has(res.status) || (res.status === 409 && code === 'request_in_progress');
		throw new AntireplayError(isError && typeof data.message === 'string' ? data.message : `HTTP ${res.status}`, {
			status: res.status, code, key, retryable,
			details: isError ? data : null,
			retryAfterMs: parseRetryAfter(res.headers.get('Retry-After'), now()),
		});
	}

	// Runs attempt() until it succeeds, fails for good, or the bounds are
	// spent: full-jitter exponential backoff, at least Retry-After.
	async function retrying(attempt, opts, key) {
		const { signal, onRetry } = opts;
		const l = limitsOf(opts);
		const start = now();
		for (let n = 1; ; n++) {
			if (signal?.aborted) throw abortedError(signal, key);
			const left = l.budgetMs - (now() - start);
			try {
				return await attempt(Math.max(1, Math.min(l.timeoutMs, left)));
			} catch (err) {
				if (!(err instanceof AntireplayError) || !err.retryable) throw err;
				if (n >= l.attempts) throw err;
				const backoff = Math.floor(random() * Math.min(l.maxDelayMs, l.baseDelayMs * 2 ** (n - 1)));
				const delayMs = Math.max(backoff, err.retryAfterMs ?? 0);
				if (now() - start + delayMs > l.budgetMs) throw err;
				onRetry?.({ attempt: n, delayMs, reason: err.code, error: err });
				try {
					await sleep(delayMs, signal);
				} catch (sleepErr) {
					if (signal?.aborted) throw abortedError(signal, key);
					throw sleepErr;
				}
			}
		}
	}

	// POST {baseUrl}/tokens: resolves the token string.
	async function getToken(opts = {}) {
		const res = await retrying((timeoutMs) => once('POST', '/tokens', { signal: opts.signal, timeoutMs }), opts);
		if (typeof res.data.token !== 'string')
			throw new AntireplayError('POST /tokens answered without a token', { status: res.status, code: 'invalid_response' });
		return res.data.token;
	}

	// A key for one purchase attempt: a fresh token, or a UUID made here.
	async function takeKey(opts = {}) {
		if (keys === 'issued') return getToken(opts);
		const crypto = options.crypto ?? globalThis.crypto;
		if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
		if (typeof crypto?.getRandomValues === 'function') return uuidFromRandomValues(crypto);
		throw new AntireplayError('no Web Crypto to make a key (pass options.crypto)', { code: 'no_crypto' });
	}

	// GET {baseUrl}/orders/{id}: resolves the order.
	async function getOrder(orderId, opts = {}) {
		const path = '/orders/' + encodeURIComponent(orderId);
		const res = await retrying((timeoutMs) => once('GET', path, { signal: opts.signal, timeoutMs }), opts);
		return res.data;
	}

	// POST {baseUrl}/orders with one key for every retry: resolves
	// { order, replayed, key }. A duplicate_request with an order_id (reject
	// mode) is the first order, fetched, and replayed.
	async function submitOrder(items, opts = {}) {
		if (!Array.isArray(items)) throw new TypeError('items must be an array of {sku, qty}');
		const key = opts.key ?? (await takeKey(opts));
		const body = { items: items.map(({ sku, qty }) => ({ sku, qty })) };
		if (opts.customer !== undefined && opts.customer !== null) body.customer = opts.customer;
		let res;
		try {
			res = await retrying((timeoutMs) => once('POST', '/orders', { body, key, signal: opts.signal, timeoutMs }), opts, key);
		} catch (err) {
			if (!(err instanceof AntireplayError) || err.code !== 'duplicate_request') throw err;
			const orderId = err.details?.order_id;
			if (typeof orderId !== 'string') throw err;
			try {
				return { order: await getOrder(orderId, opts), replayed: true, key };
			} catch (getErr) {
				if (getErr instanceof AntireplayError) getErr.key = key;
				throw getErr;
			}
		}
		const replayed = (res.headers.get('Idempotent-Replayed') ?? '').trim().toLowerCase() === 'true';
		return { order: res.data, replayed, key };
	}

	return { getToken, takeKey, getOrder, submitOrder };
}

// The default client (baseUrl '/api', keys 'issued'), so that
// submitOrder(items, { customer }) works as is.
const defaultClient = createClient();
export const getToken = (opts) => defaultClient.getToken(opts);
export const takeKey = (opts) => defaultClient.takeKey(opts);
export const getOrder = (orderId, opts) => defaultClient.getOrder(orderId, opts);
export const submitOrder = (items, opts) => defaultClient.submitOrder(items, opts);
