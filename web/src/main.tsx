import { render } from 'preact';
import { App } from './app.js';
import { startRouter } from './router.js';
import './styles.css';

startRouter();
render(<App />, document.getElementById('app')!);
