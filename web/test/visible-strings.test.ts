/**
 * Every word a person sees comes from the message catalogs (lib/i18n): this fails when a .tsx
 * file writes visible text itself, as JSX text, in an attribute that is shown or read out, or as
 * a string a JSX child or such an attribute evaluates to, or in a dialog (confirm, alert, prompt)
 * or the document title. Text means a string with a letter in it; punctuation, numbers and
 * symbols (" · ", "–", "…", "0.2450") are not words in any language. Text handed to a helper
 * that renders it (`link(href, 'My energy')`) cannot be told from an identifier by its place, so
 * anywhere else a string that starts like a sentence or a label ("My energy", "Members") counts
 * too; identifiers ('active', 'NotAllowedError', '/api/v1/…') do not start that way.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';

const SRC = join(import.meta.dirname, '../src');

/**
 * Attributes whose value is never shown or read out: identifiers, links, input types and
 * patterns, ARIA references and states, and the components' own non-text props (a Badge's tone,
 * a Chart's User Timing mark).
 */
const NOT_TEXT = new Set([
  'key', 'ref', 'id', 'class', 'className', 'style', 'for', 'htmlFor', 'name', 'type', 'href', 'src', 'rel', 'target', 'role',
  'method', 'action', 'accept', 'autocomplete', 'autoComplete', 'autocapitalize', 'inputMode', 'pattern', 'min', 'max', 'step',
  'minLength', 'maxLength', 'rows', 'tabIndex', 'lang', 'dir', 'scope', 'colSpan', 'rowSpan', 'download', 'form', 'spellcheck',
  'aria-describedby', 'aria-labelledby', 'aria-controls', 'aria-current', 'aria-live', 'aria-expanded', 'aria-pressed',
  'aria-hidden', 'aria-busy', 'aria-invalid', 'aria-required', 'aria-haspopup', 'aria-atomic', 'aria-checked', 'aria-selected',
  'tone', 'mark',
]);
/** A form control's or data element's value is what it sends, not what it says; a component's `value` prop is shown. */
const NOT_TEXT_ON_ELEMENTS = new Set(['value', 'defaultValue']);
/** data-* attributes are for scripts, except those the stylesheet shows with attr() (table.stack's data-label). */
const SHOWN_DATA_ATTRIBUTES = new Set([...readFileSync(join(SRC, 'styles.css'), 'utf8').matchAll(/attr\((data-[\w-]+)\)/g)].map((m) => m[1]!));

const isText = (text: string) => /\p{L}/u.test(text);
const looksLikeWords = (text: string) => /^\s*\p{Lu}\p{Ll}+(?:[\s.,:;!?…-]|$)/u.test(text);

export interface Finding {
  line: number;
  text: string;
}

/** The visible string literals of one .tsx source. */
export function visibleStrings(code: string, fileName = 'page.tsx'): Finding[] {
  const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const findings: Finding[] = [];
  const reported = new Set<ts.Node>();
  const report = (node: ts.Node, text: string) => {
    if (!isText(text) || reported.has(node)) return;
    reported.add(node);
    findings.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, text: text.trim() });
  };

  /** The strings an expression in a visible place can evaluate to (not what it passes to calls, e.g. keys to t()). */
  const visible = (node: ts.Node | undefined): void => {
    if (!node) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) report(node, node.text);
    else if (ts.isTemplateExpression(node)) {
      report(node.head, node.head.text);
      for (const span of node.templateSpans) {
        visible(span.expression);
        report(span.literal, span.literal.text);
      }
    } else if (ts.isConditionalExpression(node)) {
      visible(node.whenTrue);
      visible(node.whenFalse);
    } else if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken.kind;
      if (op === ts.SyntaxKind.PlusToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) visible(node.left);
      if (op === ts.SyntaxKind.PlusToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken
        || op === ts.SyntaxKind.AmpersandAmpersandToken) visible(node.right);
    } else if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isNonNullExpression(node)) visible(node.expression);
    else if (ts.isArrayLiteralExpression(node)) node.elements.forEach(visible);
    else if (ts.isArrowFunction(node) && !ts.isBlock(node.body)) visible(node.body);
    else if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)
      && ['join', 'filter', 'concat', 'map', 'slice'].includes(node.expression.name.text)) {
      // [a, 'words'].filter(Boolean).join(' · '): the list's items and the separator are shown.
      visible(node.expression.expression);
      node.arguments.forEach(visible);
    }
  };

  const attributeIsText = (attribute: ts.JsxAttribute, element: ts.JsxOpeningLikeElement) => {
    const name = attribute.name.getText(source);
    if (NOT_TEXT.has(name)) return false;
    if (name.startsWith('data-')) return SHOWN_DATA_ATTRIBUTES.has(name);
    const intrinsic = /^[a-z]/.test(element.tagName.getText(source));
    return !(intrinsic && NOT_TEXT_ON_ELEMENTS.has(name));
  };

  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node)) report(node, node.text);
    else if (ts.isJsxExpression(node) && (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent))) visible(node.expression);
    else if (ts.isJsxAttribute(node) && attributeIsText(node, node.parent.parent)) {
      const value = node.initializer;
      if (value && ts.isStringLiteral(value)) report(value, value.text);
      else if (value && ts.isJsxExpression(value)) visible(value.expression);
    } else if (ts.isCallExpression(node) && ['confirm', 'alert', 'prompt'].includes(node.expression.getText(source).replace(/^window\./, ''))) {
      visible(node.arguments[0]);
    } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && node.left.getText(source) === 'document.title') {
      visible(node.right);
    } else if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) && looksLikeWords(node.text)
      && !ts.isImportDeclaration(node.parent) && !ts.isExportDeclaration(node.parent) && !ts.isLiteralTypeNode(node.parent)) {
      report(node, node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings.sort((a, b) => a.line - b.line);
}

function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? tsxFiles(path) : entry.name.endsWith('.tsx') ? [path] : [];
  });
}

describe('visible strings', () => {
  it('finds words written in JSX, shown attributes, visible expressions, dialogs and the title', () => {
    const code = `
      export function Page({ n, busy }: { n: number; busy: boolean }) {
        if (!window.confirm('Remove it?')) return null;
        document.title = \`\${n} · Gridshare\`;
        return (
          <section aria-label="Main" class="card" data-testid="page">
            {link('/members', 'My energy')}{link('/account', t('nav.account'))}{state === 'active' && error.name !== 'NotAllowedError' && get(\`/api/v1/x\`)}
            <h1 title={busy ? 'Saving' : t('page.title')}>Hello</h1>
            <Field label="Name" id="name" hint={\`Start of the day in \${zone}\`}><input id="name" placeholder="Your name" /></Field>
            <p>{busy && 'Working…'}{' · '}{n === 1 ? '' : 's'}{[a, \`\${n} members\`].filter(Boolean).join(' · ')}</p>
            <Stat value="full" detail={t('page.detail')} />
            <option value="consumer">{t('page.consumer')}</option>
            <td data-label="Total" data-field="totalWh">12 × 3 – 0.2450 …</td>
          </section>
        );
      }`;
    expect(visibleStrings(code).map((f) => f.text)).toEqual([
      'Remove it?', '· Gridshare', 'Main', 'My energy', 'Saving', 'Hello', 'Name', 'Start of the day in', 'Your name', 'Working…', 's', 'members', 'full', 'Total',
    ]);
  });

  it('finds none in the app: its words come from the message catalogs', () => {
    const files = tsxFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((file) =>
      visibleStrings(readFileSync(file, 'utf8'), file).map((f) => `${file.slice(SRC.length + 1)}:${f.line} ${JSON.stringify(f.text)}`));
    expect(found).toEqual([]);
  });
});
