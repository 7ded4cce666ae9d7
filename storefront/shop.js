// storefront/shop.js: the demo shop. Each product card runs purchase
// attempts: one key per attempt, taken at its first click and sent with
// every click of it, so the server answers the repeats with the same order
// (the button is never just disabled). An attempt ends when the quantity
// changes or "Buy again" follows a success. The orders placed here are kept
// in localStorage: the API has no list of orders.
import { createClient } from './antireplay.js';
import { PRODUCTS, productName } from './products.js';
import { plainWords } from './words.js';

const shop = createClient({ baseUrl: '/api', keys: 'issued' });
const ORDERS_KEY = 'antireplay-demo-shop.orders';
const STOCK_EVERY_MS = 4000;

// Clicks not yet settled, on <body data-inflight> (the browser test waits
// for 0); each card counts its client's retries in data-retries.
let inflight = 0;
function countInflight(delta) {
	inflight += delta;
	document.body.dataset.inflight = String(inflight);
}

function loadOrders() {
	try {
		const list = JSON.parse(localStorage.getItem(ORDERS_KEY) ?? '[]');
		return Array.isArray(list) ? list : [];
	} catch {
		return [];
	}
}

// remember(order): adds an order to the list once, however many answers
// carried it (a repeat resolves with the same order_id).
function remember(order) {
	const list = loadOrders();
	if (!list.some((o) => o.order_id === order.order_id)) {
		list.unshift({ order_id: order.order_id, items: order.items, created_at: order.created_at });
		localStorage.setItem(ORDERS_KEY, JSON.stringify(list));
	}
	renderOrders(order.order_id);
}

function renderOrders(fresh) {
	const ol = document.getElementById('orders');
	const list = loadOrders();
	document.getElementById('no-orders').hidden = list.length > 0;
	ol.replaceChildren(
		...list.map((o) => {
			const li = document.createElement('li');
			li.dataset.orderId = o.order_id;
			if (o.order_id === fresh) li.className = 'fresh';
			const what = o.items.map((i) => `${i.qty} × ${productName(i.sku)}`).join(', ');
			const when = new Date(o.created_at).toLocaleString();
			const link = document.createElement('a');
			link.href = `/order.html?order_id=${encodeURIComponent(o.order_id)}`;
			link.textContent = o.order_id;
			li.append(`${what}, ${when}: order `, link);
			return li;
		}),
	);
}

async function refreshStock(card) {
	try {
		const res = await fetch(`/api/stock/${encodeURIComponent(card.sku)}`, { cache: 'no-store' });
		if (!res.ok) return;
		const { available } = await res.json();
		card.stock.textContent = available > 0 ? `${available} in stock` : 'sold out';
	} catch {
		// Shown again at the next refresh.
	}
}

function retryWords({ attempt, delayMs, reason }) {
	const secs = Math.max(1, Math.round(delayMs / 1000));
	return `Placing order… no answer yet (${reason}): trying again in ${secs} s (retry ${attempt}).`;
}

class Card {
	constructor(el) {
		this.el = el;
		this.sku = el.dataset.sku;
		this.qty = el.querySelector('.qty');
		this.buy = el.querySelector('.buy');
		this.again = el.querySelector('.again');
		this.status = el.querySelector('.status');
		this.stock = el.querySelector('.stock');
		this.attempt = null;
		this.buy.addEventListener('click', () => this.send());
		this.again.addEventListener('click', () => this.reset(''));
		this.qty.addEventListener('change', () => this.reset(''));
	}

	say(text, kind) {
		this.status.textContent = text;
		this.status.className = `status ${kind ?? ''}`;
	}

	reset(text) {
		this.attempt = null;
		this.again.hidden = true;
		this.say(text);
	}

	// The current attempt, started at its first click: the payload is fixed
	// then (a repeat must be the same order, or the server says token_reused).
	current() {
		if (!this.attempt) {
			this.attempt = {
				key: shop.takeKey(),
				items: [{ sku: this.sku, qty: Number(this.qty.value) }],
				customer: document.getElementById('customer').value.trim() || undefined,
				order: null,
			};
			// A failed takeKey is reported by the clicks that await it.
			this.attempt.key.catch(() => {});
		}
		return this.attempt;
	}

	// One click: the attempt's key and payload again, whatever came before.
	async send() {
		const a = this.current();
		if (!a.order) this.say('Placing order…', 'busy');
		countInflight(1);
		try {
			const key = await a.key;
			const { order } = await shop.submitOrder(a.items, {
				key,
				customer: a.customer,
				onRetry: (info) => {
					this.el.dataset.retries = String(Number(this.el.dataset.retries ?? 0) + 1);
					if (this.attempt === a && !a.order) this.say(retryWords(info), 'busy');
				},
			});
			remember(order);
			if (this.attempt === a) {
				a.order = order;
				this.say(`Order placed: ${a.items[0].qty} × ${productName(this.sku)}. It is in "Your orders" below.`, 'done');
				this.again.hidden = false;
			}
		} catch (err) {
			// A final answer (out_of_stock is kept under the key) ends the
			// attempt: the next click starts a new one. After a retryable one
			// (the retries ran out) the order may exist: the next click sends
			// the same key again.
			if (this.attempt === a && !a.order) {
				if (!err.retryable) this.attempt = null;
				this.say(plainWords(err.code), 'error');
			}
		} finally {
			countInflight(-1);
			refreshStock(this);
		}
	}
}

// A card per product, from the page's template.
function productCard({ sku, name, price }) {
	const el = document.getElementById('product-card').content.firstElementChild.cloneNode(true);
	el.dataset.sku = sku;
	el.querySelector('h2').textContent = name;
	el.querySelector('.price').textContent = price;
	document.getElementById('products').append(el);
	return new Card(el);
}

const cards = PRODUCTS.map(productCard);
renderOrders();
for (const card of cards) refreshStock(card);
setInterval(() => cards.forEach(refreshStock), STOCK_EVERY_MS);
