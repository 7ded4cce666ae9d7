// storefront/error.js: error.html says in plain words what ?error= means.
import { plainWords } from './words.js';

const code = new URLSearchParams(location.search).get('error') ?? '';
document.getElementById('message').textContent = plainWords(code);
