// storefront/order.js: order.html shows the order named by ?order_id=
// (GET /api/orders/{id}).
import { createClient } from './antireplay.js';
import { productName } from './products.js';
import { plainWords } from './words.js';

const shop = createClient({ baseUrl: '/api', keys: 'issued' });
const id = new URLSearchParams(location.search).get('order_id') ?? '';
const show = (elId, text) => {
	document.getElementById(elId).textContent = text;
};

try {
	const order = await shop.getOrder(id);
	show('order-id', order.order_id);
	show('order-items', order.items.map((i) => `${i.qty} × ${productName(i.sku)}`).join(', '));
	show('order-customer', order.customer ?? '(none given)');
	show('order-created', new Date(order.created_at).toLocaleString());
	document.getElementById('order').hidden = false;
} catch (err) {
	const el = document.getElementById('order-error');
	el.textContent = plainWords(err.code);
	el.hidden = false;
}
