// The one template syntax: {{name}}. Rendering is pure and strict: a placeholder without a value,
// or a value without a placeholder, is a bug in the caller, not something to paper over.

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;

export class TemplateError extends Error {}

export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/**
 * Fills every {{name}} with values[name]. A placeholder alone on its line whose value is empty
 * removes the line, so optional blocks leave no blank gaps.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>, name = 'template'): string {
  const wanted = placeholders(template);
  const missing = wanted.filter((key) => !(key in values));
  if (missing.length > 0) throw new TemplateError(`${name}: no value for ${missing.map((k) => `{{${k}}}`).join(', ')}`);
  const unused = Object.keys(values).filter((key) => !wanted.includes(key));
  if (unused.length > 0) throw new TemplateError(`${name}: values without a placeholder: ${unused.join(', ')}`);
  const lines = template.split('\n').flatMap((line) => {
    const alone = /^\s*\{\{\s*([a-z][a-z0-9_]*)\s*\}\}\s*$/.exec(line);
    if (alone && (values[alone[1] as string] ?? '') === '') return [];
    return [line.replace(PLACEHOLDER, (_m, key: string) => values[key] as string)];
  });
  return lines.join('\n');
}

/** Renders one line template per item, e.g. an ENV or LABEL line for each pair. */
export function renderEach(lineTemplate: string, items: ReadonlyArray<Readonly<Record<string, string>>>, name = 'line template'): string {
  return items.map((item) => renderTemplate(lineTemplate, item, name)).join('\n');
}
