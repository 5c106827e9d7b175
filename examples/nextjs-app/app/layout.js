export const metadata = { title: 'Tasks · Latchkey example' };

// No web fonts (nothing is fetched from outside at build or run time): system fonts only.
const style = `
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  li { margin: .25rem 0; }
  form.inline { display: inline; }
  .muted { color: #666; font-size: .9rem; }
  .error { color: #b00020; }
`;

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <head>
        <style>{style}</style>
      </head>
      <body>{children}</body>
    </html>
  );
}
