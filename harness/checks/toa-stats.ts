/** /proc/net/toa_stats of our module: one `name value` line per counter. */
export type ToaStats = Record<string, number>;

export function parseToaStats(text: string): ToaStats {
  const stats: ToaStats = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([a-z0-9_]+):?\s+(\d+)\s*$/.exec(line);
    if (match) stats[match[1]!] = Number(match[2]);
  }
  return stats;
}
