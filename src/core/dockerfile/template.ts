// The one template syntax: {{name}}. Rendering is pure and strict: a placeholder without a value,
// or a value without a placeholder, is a bug in the caller, not something to paper over.

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;

export class TemplateError extends Error {}

export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/**
 * Fills every {{name}} with values[name]. A placeholder alone on its line takes a block (several
 * lines, or none: an empty block removes the line, so optional blocks leave no blank gaps). A
 * placeholder inside a line takes a single line: a line break there could start a new Dockerfile
 * instruction, so it is refused here, for every value, whatever checked it before.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>, name = 'template'): string {
  const wanted = placeholders(template);
  const missing = wanted.filter((key) => !(key in values));
  if (missing.length > 0) throw new TemplateError(`${name}: no value for ${missing.map((k) => `{{${k}}}`).join(', ')}`);
  const unused = Object.keys(values).filter((key) => !wanted.includes(key));
  if (unused.length > 0) throw new TemplateError(`${name}: values without a placeholder: ${unused.join(', ')}`);
  const lines = template.split('\n').flatMap((line) => {
    const alone = /^\s*\{\{\s*([a-z][a-z0-9_]*)\s*\}\}\s*$/.exec(line);
    if (alone) {
      const block = values[alone[1] as string] as string;
      return block === '' ? [] : [line.replace(PLACEHOLDER, () => block)];
    }
    return [
      line.replace(PLACEHOLDER, (_m, key: string) => {
        const value = values[key] as string;
        if (/[\r\n\u2028\u2029]/.test(value)) throw new TemplateError(`${name}: the value of {{${key}}} spans lines but sits inside a line`);
        return value;
      }),
    ];
  });
  return lines.join('\n');
}

/** Renders one line template per item, e.g. an ENV or LABEL line for each pair. */
export function renderEach(lineTemplate: string, items: ReadonlyArray<Readonly<Record<string, string>>>, name = 'line template'): string {
  return items.map((item) => renderTemplate(lineTemplate, item, name)).join('\n');
}
