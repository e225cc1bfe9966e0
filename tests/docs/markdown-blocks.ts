import { readFileSync } from 'node:fs';

/** A fenced code block of a markdown file: its info string's first word and its text (no trailing newline). */
export interface CodeBlock {
  readonly language: string;
  readonly text: string;
}

export function codeBlocks(markdownPath: string): CodeBlock[] {
  const markdown = readFileSync(markdownPath, 'utf8');
  return [...markdown.matchAll(/^```(\w*)[^\n]*\n([\s\S]*?)^```$/gm)].map((match) => ({
    language: match[1]!,
    text: match[2]!.replace(/\n$/, ''),
  }));
}
