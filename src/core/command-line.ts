// What a training command line does to its environment, read with a real shell tokenizer
// (shell-quote): `API_TOKEN=abc python train.py` sets a variable inline, while
// `python -c "print(1, flush=True)"` and `echo a=b` do not.
import { parse } from 'shell-quote';

/** Names of the variables a command line assigns inline, before a command word (NAME=value ...). */
export function inlineAssignments(commandLine: string): string[] {
  let tokens: ReturnType<typeof parse>;
  try {
    // No environment: $VARS stay unexpanded, nothing of ours is read.
    tokens = parse(commandLine, (name) => `$${name}`);
  } catch {
    return [];
  }
  const names: string[] = [];
  let atCommandStart = true;
  for (const token of tokens) {
    if (typeof token !== 'string') {
      // An operator (;, &&, |, ...) starts a new command; a glob or a comment does not.
      if ('op' in token && token.op !== 'glob') atCommandStart = true;
      continue;
    }
    const match = atCommandStart ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(token) : null;
    if (match) names.push(match[1] as string);
    else atCommandStart = false;
  }
  return names;
}
