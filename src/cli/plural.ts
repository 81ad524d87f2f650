// Counts in CLI sentences: "1 track", "2 tracks", "1 person", "3 persons".

/** `${n} ${word}` with the word in the plural unless n is 1 (`plural` for irregular ones). */
export function count(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}
