import { render } from 'preact';
import { App } from './app.js';
import { browserLanguages, loadMessages, preferredLanguage, storedLanguage } from './lib/i18n/index.js';
import { startRouter } from './router.js';
import './styles.css';

// The first frame is already in the person's language: a chosen language other than English is
// fetched (its own small chunk) before anything renders.
const language = preferredLanguage(storedLanguage(), browserLanguages());
void loadMessages(language).then((messages) => {
  startRouter();
  render(<App language={language} messages={messages} />, document.getElementById('app')!);
});
