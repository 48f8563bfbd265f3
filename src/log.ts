// Logs: one JSON object per line when not on a terminal (for log collectors), readable text on a terminal.
export type Log = (entry: Record<string, unknown> & { msg: string; level?: string }) => void;

export function createLog(stream: NodeJS.WriteStream = process.stderr): Log {
  return (entry) => {
    const line = { time: new Date().toISOString(), level: 'info', ...entry };
    if (stream.isTTY) {
      const { time, level, msg, ...rest } = line;
      const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
      stream.write(`${time.slice(11, 19)} ${level} ${msg}${extra}\n`);
    } else stream.write(`${JSON.stringify(line)}\n`);
  };
}
