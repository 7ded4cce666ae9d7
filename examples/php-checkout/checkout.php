<?php
// checkout.php: the shop's order handler. It runs only behind the antireplay
// gate, which lets one request through per token and passes the token on as
// ANTIREPLAY_KEY; it stores one row per order.
declare(strict_types=1);

function reply(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    header('Cache-Control: no-store');
    echo json_encode($body), "\n";
}

$key = $_SERVER['ANTIREPLAY_KEY'] ?? '';
if ($key === '') {
    // Reached without the gate: the front is misconfigured. Fail closed.
    reply(500, ['error' => 'gate_missing', 'message' => 'checkout runs only behind the antireplay gate']);
    exit;
}
$item = trim((string)($_POST['item'] ?? 'book'));
if ($item === '' || strlen($item) > 100) {
    reply(400, ['error' => 'invalid_item', 'message' => 'item must be 1 to 100 bytes']);
    exit;
}

// Outside the document root; the folder must be writable by PHP's user.
$dsn = getenv('CHECKOUT_DSN') ?: 'sqlite:/var/lib/php-checkout/shop.sqlite';
$db = new PDO($dsn, getenv('CHECKOUT_DB_USER') ?: null, getenv('CHECKOUT_DB_PASSWORD') ?: null, [
    PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
    PDO::ATTR_TIMEOUT => 5, // SQLite: the busy timeout, in seconds
]);
$db->exec('CREATE TABLE IF NOT EXISTS orders (
    antireplay_key VARCHAR(255) NOT NULL,
    item VARCHAR(100) NOT NULL,
    created_at VARCHAR(40) NOT NULL)');
$db->prepare('INSERT INTO orders (antireplay_key, item, created_at) VALUES (?, ?, ?)')
    ->execute([$key, $item, gmdate('Y-m-d\TH:i:s\Z')]);

reply(201, ['status' => 'ordered', 'item' => $item]);
