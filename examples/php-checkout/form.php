<?php
// form.php: the shop's order form. It asks antireplay for a one-time token
// (POST /tokens, server side) and puts it in the form's action URL: the
// gate in front of checkout.php lets one submission through per token.
declare(strict_types=1);

$tokensUrl = getenv('ANTIREPLAY_TOKENS_URL') ?: 'http://127.0.0.1/api/tokens';

// The token is in a URL: keep it out of Referer headers and caches.
header('Referrer-Policy: no-referrer');
header('Cache-Control: no-store');

$ctx = stream_context_create(['http' => [
    'method' => 'POST',
    'header' => "Content-Length: 0\r\n",
    'timeout' => 5,
    'ignore_errors' => true,
]]);
$reply = @file_get_contents($tokensUrl, false, $ctx);
$token = is_string($reply) ? (json_decode($reply, true)['token'] ?? null) : null;
if (!is_string($token)) {
    http_response_code(503);
    header('Retry-After: 1');
    exit("The shop cannot take orders right now; please try again shortly.\n");
}
$action = 'checkout.php?token=' . rawurlencode($token);
?>
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Checkout</title></head>
<body>
<form method="post" action="<?= htmlspecialchars($action, ENT_QUOTES) ?>">
  <label>Item <input name="item" value="book" maxlength="100"></label>
  <button type="submit">Buy</button>
</form>
</body>
</html>
