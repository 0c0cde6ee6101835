// Formatting for display: times, sizes, addresses.

const exactFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "medium",
});
const sameYearFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const otherYearFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** "12 s", "5 min", "3 h", then a date: short enough for a list column. */
export function relativeTime(iso, now = Date.now()) {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return "";
  const seconds = Math.max(0, Math.round((now - time) / 1000));
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const date = new Date(time);
  return date.getFullYear() === new Date(now).getFullYear()
    ? sameYearFormat.format(date)
    : otherYearFormat.format(date);
}

export function exactTime(iso) {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? String(iso ?? "") : exactFormat.format(new Date(time));
}

export function formatSize(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export const formatCount = (n) => new Intl.NumberFormat().format(n);

/** `Name <address>`, or just the address when there is no name. */
export function formatAddress(address) {
  if (!address) return "";
  const { Name: name, Address: email } = address;
  if (name && email) return `${name} <${email}>`;
  return name || email || "";
}

/** A short label for a list row: the name if any, else the address. */
export function shortAddress(address) {
  return address?.Name || address?.Address || "";
}

export function addressList(list) {
  return (list ?? []).map(formatAddress).join(", ");
}

export function plural(n, one, many = `${one}s`) {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
