// Unit tests of client/antireplay.js: the retry and backoff rules, keys,
// and how answers become results or errors. The server is a scripted fake
// fetch; sleep, random and the clock are fakes, so nothing waits.
// Run: node --test tests/js/test_antireplay.mjs (make check runs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as antireplay from '../../client/antireplay.js';

const { createClient, AntireplayError } = antireplay;

const TOKEN = '5f0c6a5e-3d7b-4b1e-9a3f-2c1d0e9b8a77';
const ORDER = { order_id: 'ord-1', status: 'created', items: [{ sku: 'SKU-1', qty: 2 }], created_at: '2026-11-27T05:44:47.123Z' };
const ITEMS = [{ sku: 'SKU-1', qty: 2 }];
const T0 = 1_800_000_000_000; // a whole second: HTTP-dates carry seconds

const json = (status, body, headers = {}) => ({ status, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
const tokenOk = () => json(201, { token: TOKEN, expires_in: 600 });
const orderOk = (headers) => json(201, ORDER, headers);
const unavailable = (headers = { 'Retry-After': '1' }) => json(503, { error: 'unavailable', message: 'Redis does not answer' }, headers);
const netError = () => new TypeError('fetch failed');

// A client over a scripted server: each request takes the next step (an
// answer, an Error to reject with, or a function of (url, init)).
function harness(script, options = {}) {
	const calls = [];
	const sleeps = [];
	const retries = [];
	let clock = T0;
	const fetch = async (url, init) => {
		const headers = new Headers(init.headers);
		calls.push({ url, method: init.method, headers, body: init.body, key: headers.get('Idempotency-Key') });
		const step = script[calls.length - 1];
		if (step === undefined) throw new Error(`unexpected request ${calls.length}: ${init.method} ${url}`);
		if (step instanceof Error) throw step;
		const answer = typeof step === 'function' ? await step(url, init) : step;
		return new Response(answer.body, { status: answer.status, headers: answer.headers });
	};
	const client = createClient({
		fetch,
		random: () => 0.5,
		sleep: async (ms) => {
			sleeps.push(ms);
			clock += ms;
		},
		now: () => clock,
		...options,
	});
	const onRetry = (info) => retries.push(info);
	return { client, calls, sleeps, retries, onRetry };
}

async function rejection(promise) {
	try {
		await promise;
	} catch (err) {
		return err;
	}
	assert.fail('expected a rejection');
}

test('one key for every retry: the token, then network error, 503, 201', async () => {
	const h = harness([tokenOk(), netError(), unavailable(), orderOk()]);
	const res = await h.client.submitOrder(ITEMS, { customer: 'Ada', onRetry: h.onRetry });
	assert.deepEqual(res, { order: ORDER, replayed: false, key: TOKEN });
	assert.deepEqual(h.calls.map((c) => `${c.method} ${c.url}`), ['POST /api/tokens', 'POST /api/orders', 'POST /api/orders', 'POST /api/orders']);
	for (const c of h.calls.slice(1)) {
		assert.equal(c.key, TOKEN);
		assert.equal(c.body, '{"items":[{"sku":"SKU-1","qty":2}],"customer":"Ada"}');
		assert.equal(c.headers.get('Content-Type'), 'application/json');
		assert.equal(c.headers.get('Accept'), 'application/json');
	}
	assert.equal(h.calls[0].key, null);
});

test('a key passed in is used as is, and no token is fetched', async () => {
	const h = harness([unavailable(), orderOk()]);
	const res = await h.client.submitOrder([{ sku: 'SKU-1', qty: 2, name: 'Mug' }], { key: 'k-1', customer: null });
	assert.equal(res.key, 'k-1');
	assert.deepEqual(h.calls.map((c) => c.key), ['k-1', 'k-1']);
	assert.equal(h.calls[0].body, '{"items":[{"sku":"SKU-1","qty":2}]}');
});

test('network error then 201: one retry, reported to onRetry', async () => {
	const h = harness([netError(), orderOk()]);
	const res = await h.client.submitOrder(ITEMS, { key: TOKEN, onRetry: h.onRetry });
	assert.equal(res.order.order_id, 'ord-1');
	assert.deepEqual(h.sleeps, [100]);
	assert.equal(h.retries.length, 1);
	assert.equal(h.retries[0].attempt, 1);
	assert.equal(h.retries[0].delayMs, 100);
	assert.equal(h.retries[0].reason, 'network_error');
	assert.equal(h.retries[0].error.retryable, true);
});

test('503 three times then 201: exponential backoff with jitter', async () => {
	const h = harness([unavailable({}), unavailable({}), unavailable({}), orderOk()]);
	const res = await h.client.submitOrder(ITEMS, { key: TOKEN, onRetry: h.onRetry });
	assert.equal(res.replayed, false);
	assert.equal(h.calls.length, 4);
	assert.deepEqual(h.sleeps, [100, 200, 400]); // random 0.5 of 200, 400, 800
	assert.deepEqual(h.retries.map((r) => r.reason), ['unavailable', 'unavailable', 'unavailable']);
	assert.deepEqual(h.retries.map((r) => r.attempt), [1, 2, 3]);
});

test('502 and 504 are retried too', async () => {
	const h = harness([json(502, {}), json(504, {}), orderOk()]);
	await h.client.submitOrder(ITEMS, { key: TOKEN, onRetry: h.onRetry });
	assert.deepEqual(h.retries.map((r) => r.reason), ['http_502', 'http_504']);
});

test('Retry-After in seconds is waited at least', async () => {
	const h = harness([unavailable({ 'Retry-After': '1' }), json(429, { error: 'rate_limited', message: 'slow down' }, { 'Retry-After': '3' }), orderOk()]);
	await h.client.submitOrder(ITEMS, { key: TOKEN });
	assert.deepEqual(h.sleeps, [1000, 3000]);
});

test('Retry-After as an HTTP-date is waited until', async () => {
	const at = new Date(T0 + 7000).toUTCString();
	const h = harness([unavailable({ 'Retry-After': at }), orderOk()]);
	await h.client.submitOrder(ITEMS, { key: TOKEN });
	assert.deepEqual(h.sleeps, [7000]);
});

test('Retry-After past the budget: gives up at once, retryable', async () => {
	const h = harness([json(429, { error: 'rate_limited', message: 'slow down' }, { 'Retry-After': '45' })]);
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.ok(err instanceof AntireplayError);
	assert.equal(err.code, 'rate_limited');
	assert.equal(err.status, 429);
	assert.equal(err.retryable, true);
	assert.equal(err.retryAfterMs, 45000);
	assert.equal(err.key, TOKEN);
	assert.equal(h.calls.length, 1);
	assert.deepEqual(h.sleeps, []);
});

test('attempts are bounded: the last error, retryable', async () => {
	const h = harness(Array.from({ length: 10 }, () => unavailable()), { attempts: 4 });
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.equal(err.code, 'unavailable');
	assert.equal(err.status, 503);
	assert.equal(err.retryable, true);
	assert.equal(err.message, 'Redis does not answer');
	assert.equal(h.calls.length, 4);
	assert.equal(h.sleeps.length, 3);
});

test('the default bound is 8 attempts', async () => {
	const h = harness(Array.from({ length: 10 }, () => unavailable({})));
	await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.equal(h.calls.length, 8);
});

test('the time budget bounds the retries', async () => {
	// Retry-After 1 s each time, budget 3.5 s: requests at 0, 1, 2, 3 s.
	const h = harness(Array.from({ length: 10 }, () => unavailable()), { budgetMs: 3500 });
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.equal(err.retryable, true);
	assert.equal(h.calls.length, 4);
	assert.deepEqual(h.sleeps, [1000, 1000, 1000]);
});

test('getToken retries 429 and returns the token', async () => {
	const h = harness([json(429, { error: 'rate_limited', message: 'slow down' }, { 'Retry-After': '2' }), tokenOk()]);
	assert.equal(await h.client.getToken({ onRetry: h.onRetry }), TOKEN);
	assert.equal(h.calls.length, 2);
	assert.ok(h.calls.every((c) => c.method === 'POST' && c.url === '/api/tokens' && c.body === undefined));
	assert.deepEqual(h.sleeps, [2000]);
	assert.equal(h.retries[0].reason, 'rate_limited');
});

test('Idempotent-Replayed: true is a success, replayed', async () => {
	const h = harness([orderOk({ 'Idempotent-Replayed': 'true' }), orderOk()]);
	const first = await h.client.submitOrder(ITEMS, { key: TOKEN });
	assert.deepEqual(first, { order: ORDER, replayed: true, key: TOKEN });
	const second = await h.client.submitOrder(ITEMS, { key: TOKEN });
	assert.equal(second.replayed, false);
});

test('reject mode: 409 duplicate_request with order_id fetches that order', async () => {
	const dup = json(409, { error: 'duplicate_request', message: 'already used', order_id: 'ord-1' });
	const h = harness([dup, unavailable(), json(200, ORDER)], { baseUrl: 'https://shop.example/api/' });
	const res = await h.client.submitOrder(ITEMS, { key: TOKEN });
	assert.deepEqual(res, { order: ORDER, replayed: true, key: TOKEN });
	assert.deepEqual(h.calls.map((c) => `${c.method} ${c.url}`), [
		'POST https://shop.example/api/orders', 'GET https://shop.example/api/orders/ord-1', 'GET https://shop.example/api/orders/ord-1',
	]);
	assert.equal(h.calls[1].key, null);
});

test('reject mode: 409 duplicate_request without order_id is an error', async () => {
	const h = harness([json(409, { error: 'duplicate_request', message: 'already used' })]);
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.equal(err.code, 'duplicate_request');
	assert.equal(err.status, 409);
	assert.equal(err.retryable, false);
	assert.equal(err.key, TOKEN);
	assert.equal(h.calls.length, 1);
});

test('reject mode: the order fetch failing carries the key', async () => {
	const dup = json(409, { error: 'duplicate_request', message: 'already used', order_id: 'ord-1' });
	const h = harness([dup, json(404, { error: 'not_found', message: 'no such order' })]);
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.equal(err.code, 'not_found');
	assert.equal(err.key, TOKEN);
});

test('409 request_in_progress is retried after Retry-After', async () => {
	const h = harness([json(409, { error: 'request_in_progress', message: 'in progress' }, { 'Retry-After': '1' }), orderOk()]);
	const res = await h.client.submitOrder(ITEMS, { key: TOKEN, onRetry: h.onRetry });
	assert.equal(res.order.order_id, 'ord-1');
	assert.deepEqual(h.sleeps, [1000]);
	assert.equal(h.retries[0].reason, 'request_in_progress');
});

test('422 token_reused: surfaced, not retried', async () => {
	const h = harness([json(422, { error: 'token_reused', message: 'token already used for another order' })]);
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.ok(err instanceof AntireplayError);
	assert.equal(err.name, 'AntireplayError');
	assert.equal(err.status, 422);
	assert.equal(err.code, 'token_reused');
	assert.equal(err.message, 'token already used for another order');
	assert.equal(err.retryable, false);
	assert.equal(err.key, TOKEN);
	assert.equal(h.calls.length, 1);
});

test('409 out_of_stock: code and details', async () => {
	const h = harness([json(409, { error: 'out_of_stock', message: 'not enough stock', sku: 'SKU-1', available: 1 })]);
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.equal(err.code, 'out_of_stock');
	assert.equal(err.status, 409);
	assert.equal(err.details.sku, 'SKU-1');
	assert.equal(err.details.available, 1);
	assert.equal(err.retryable, false);
	assert.equal(h.calls.length, 1);
});

test('500 is not retried', async () => {
	const h = harness([json(500, { error: 'internal_error', message: 'internal error' })]);
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.equal(err.code, 'internal_error');
	assert.equal(err.retryable, false);
	assert.equal(h.calls.length, 1);
});

test('an HTML 502 page: retried, then http_502', async () => {
	const page = { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', headers: { 'Content-Type': 'text/html' } };
	const h = harness([page, page, page], { attempts: 3 });
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.equal(err.code, 'http_502');
	assert.equal(err.status, 502);
	assert.equal(err.details, null);
	assert.equal(err.retryable, true);
	assert.equal(h.calls.length, 3);
});

test('abort during the backoff stops retrying', async () => {
	const ctl = new AbortController();
	const h = harness([unavailable(), orderOk()], {
		sleep: async () => {
			ctl.abort();
		},
	});
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN, signal: ctl.signal }));
	assert.equal(err.code, 'aborted');
	assert.equal(err.retryable, false);
	assert.equal(err.key, TOKEN);
	assert.equal(h.calls.length, 1);
});

test('abort of a request in flight is not a network error', async () => {
	const ctl = new AbortController();
	const hang = (url, init) => new Promise((_, reject) => {
		init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
		ctl.abort();
	});
	const h = harness([hang, orderOk()]);
	const err = await rejection(h.client.submitOrder(ITEMS, { key: TOKEN, signal: ctl.signal }));
	assert.equal(err.code, 'aborted');
	assert.equal(h.calls.length, 1);
	assert.deepEqual(h.sleeps, []);
});

test('an aborted signal sends nothing', async () => {
	const h = harness([tokenOk()]);
	const err = await rejection(h.client.getToken({ signal: AbortSignal.abort() }));
	assert.equal(err.code, 'aborted');
	assert.equal(h.calls.length, 0);
});

test('a request with no answer times out and is retried', async () => {
	const hang = (url, init) => new Promise((_, reject) => {
		init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
	});
	const h = harness([hang, orderOk()], { timeoutMs: 20 });
	const res = await h.client.submitOrder(ITEMS, { key: TOKEN, onRetry: h.onRetry });
	assert.equal(res.order.order_id, 'ord-1');
	assert.equal(h.retries[0].reason, 'timeout');
	assert.deepEqual(h.calls.map((c) => c.key), [TOKEN, TOKEN]);
});

test("keys 'client': crypto.randomUUID, no token request", async () => {
	let made = 0;
	const crypto = { randomUUID: () => `uuid-${++made}` };
	const h = harness([netError(), orderOk(), orderOk()], { keys: 'client', crypto });
	const res = await h.client.submitOrder(ITEMS);
	assert.equal(res.key, 'uuid-1');
	assert.deepEqual(h.calls.map((c) => `${c.url} ${c.key}`), ['/api/orders uuid-1', '/api/orders uuid-1']);
	assert.equal((await h.client.submitOrder(ITEMS)).key, 'uuid-2');
	assert.equal(await h.client.takeKey(), 'uuid-3');
});

test("keys 'client' without randomUUID: a v4 UUID from getRandomValues", async () => {
	const crypto = { getRandomValues: (a) => a.fill(0xff) };
	const h = harness([], { keys: 'client', crypto });
	assert.equal(await h.client.takeKey(), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
});

test("keys 'issued': takeKey is a token", async () => {
	const h = harness([tokenOk()]);
	assert.equal(await h.client.takeKey(), TOKEN);
	assert.equal(h.calls[0].url, '/api/tokens');
});

test('a key with a space or comma goes quoted; one outside ASCII is refused', async () => {
	const h = harness([orderOk()]);
	await h.client.submitOrder(ITEMS, { key: 'checkout 42, "a"' });
	assert.equal(h.calls[0].key, '"checkout 42, \\"a\\""');
	const err = await rejection(h.client.submitOrder(ITEMS, { key: 'caf\u00e9' }));
	assert.equal(err.code, 'malformed_token');
	assert.equal(err.retryable, false);
	assert.equal(h.calls.length, 1);
});

test('jitter: each delay within [0, min(cap, base * 2^n))', async () => {
	const limits = { attempts: 7, baseDelayMs: 200, maxDelayMs: 1000 };
	const high = harness(Array.from({ length: 7 }, () => unavailable({})), { ...limits, random: () => 0.999999 });
	await rejection(high.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.deepEqual(high.sleeps, [199, 399, 799, 999, 999, 999]);
	const low = harness(Array.from({ length: 7 }, () => unavailable({})), { ...limits, random: () => 0 });
	await rejection(low.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.deepEqual(low.sleeps, [0, 0, 0, 0, 0, 0]);
	let r = 0;
	const seq = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2];
	const mixed = harness(Array.from({ length: 7 }, () => unavailable({})), { ...limits, random: () => seq[r++] });
	await rejection(mixed.client.submitOrder(ITEMS, { key: TOKEN }));
	assert.deepEqual(mixed.sleeps, [20, 360, 240, 700, 500, 200]);
});

test('per-call options override the client', async () => {
	const h = harness(Array.from({ length: 5 }, () => unavailable({})), { attempts: 5 });
	await rejection(h.client.submitOrder(ITEMS, { key: TOKEN, attempts: 2 }));
	assert.equal(h.calls.length, 2);
});

test('getOrder: GET /orders/{id}, id escaped', async () => {
	const h = harness([json(200, ORDER)]);
	assert.deepEqual(await h.client.getOrder('a/b'), ORDER);
	assert.equal(h.calls[0].url, '/api/orders/a%2Fb');
	assert.equal(h.calls[0].method, 'GET');
});

test('the default exports use /api and the global fetch', async (t) => {
	const saved = globalThis.fetch;
	t.after(() => {
		globalThis.fetch = saved;
	});
	const urls = [];
	globalThis.fetch = async (url, init) => {
		urls.push(`${init.method} ${url} ${new Headers(init.headers).get('Idempotency-Key')}`);
		const a = url.endsWith('/tokens') ? tokenOk() : orderOk();
		return new Response(a.body, { status: a.status, headers: a.headers });
	};
	const res = await antireplay.submitOrder(ITEMS, { customer: 'Ada' });
	assert.equal(res.key, TOKEN);
	assert.equal(await antireplay.getToken(), TOKEN);
	assert.deepEqual(urls, [`POST /api/tokens null`, `POST /api/orders ${TOKEN}`, 'POST /api/tokens null']);
});
