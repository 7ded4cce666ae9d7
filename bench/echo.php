<?php
// bench/echo.php: the cheap app of bench/run --gate. checkout.php's request
// and answer (201, the same JSON) without its database, so the gate's own
// cost is not hidden behind an INSERT. Like checkout.php, it refuses to run
// without ANTIREPLAY_KEY.
declare(strict_types=1);

$key = $_SERVER['ANTIREPLAY_KEY'] ?? '';
if ($key === '') {
    http_response_code(500);
    header('Content-Type: application/json');
    echo json_encode(['error' => 'gate_missing']), "\n";
    exit;
}
http_response_code(201);
header('Content-Type: application/json');
header('Cache-Control: no-store');
echo json_encode(['status' => 'ordered', 'item' => (string)($_POST['item'] ?? 'book')]), "\n";
