// storefront/products.js: the demo's catalogue, for the pages with
// scripts (the shop's cards, the order page's names). The plain form,
// order-form.html, lists the same products in its own HTML: it has no
// script to read this. The stock lives in antireplay (GET /api/stock/SKU).
export const PRODUCTS = [
	{ sku: 'SKU-1', name: 'Espresso cup', price: '€ 8.50' },
	{ sku: 'SKU-2', name: 'Milk jug', price: '€ 14.00' },
	{ sku: 'SKU-3', name: 'Coffee beans, 1 kg', price: '€ 24.90' },
];

export function productName(sku) {
	return PRODUCTS.find((p) => p.sku === sku)?.name ?? sku;
}
