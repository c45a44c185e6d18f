'use strict';
// react-email's render() of an email component comparable to the bundled templates: a brand
// bar with category links, a hero (image, headline with the first name, a paragraph, a
// button), a heading and the template's product cards two to a row (image, name, price or
// sale price with the old one, a link tagged with UTM parameters), and the footer (help
// line, logo, address, unsubscribe and preferences links, year). One component for every
// template, English copy, styles written inline; per recipient render(<Email .../>) with
// that recipient's context. Written with React.createElement, so there is no build step.
//
//   node benchmarks/peers/react_email.js DATA.json [--check OUT.json]
//   (without --check: "ready" after the warm-up, then one timed pass per "time" line on stdin)

const React = require('react');
const {
  Body, Button, Column, Container, Head, Heading, Hr, Html, Img, Link, Preview, Row, Section, Text, render,
} = require('@react-email/components');
const { parseArguments, serve, tagUrl } = require('./common');

const { data, check } = parseArguments();
const h = React.createElement;

const SITE = 'https://fernhill.example';
const ASSETS = 'https://cdn.fernhill.example';
const colors = { primary: '#1F3D2B', accent: '#B55733', sand: '#F3EDE2', line: '#E6DED0', text: '#2B2B2B', muted: '#6F6A62' };
const font = "Georgia, 'Times New Roman', serif";
const styles = {
  body: { backgroundColor: '#FFFBF5', margin: 0, padding: 0, color: colors.text, fontFamily: font },
  container: { maxWidth: '600px', backgroundColor: '#FFFFFF' },
  brand: { backgroundColor: colors.primary, padding: '22px 0 18px', textAlign: 'center' },
  nav: { padding: '12px 0', borderBottom: `1px solid ${colors.line}`, textAlign: 'center' },
  navText: { fontSize: '13px', letterSpacing: '1px', color: colors.muted, margin: 0 },
  navLink: { color: colors.muted, textDecoration: 'none' },
  hero: { padding: '36px 0 8px', textAlign: 'center' },
  h1: { fontSize: '30px', lineHeight: '1.25', color: colors.primary, margin: '0 24px' },
  h2: { fontSize: '22px', lineHeight: '1.3', color: colors.primary, margin: '0 24px' },
  paragraph: { fontSize: '16px', lineHeight: '1.6', padding: '14px 48px 0', margin: 0 },
  button: { backgroundColor: colors.accent, color: '#FFFFFF', borderRadius: '6px', padding: '14px 28px', fontSize: '16px', margin: '24px 0' },
  row: { padding: '12px 24px 0' },
  card: { width: '50%', padding: '0 12px', verticalAlign: 'top' },
  image: { width: '100%', borderRadius: '6px' },
  name: { fontSize: '15px', fontWeight: 600, lineHeight: '1.4', margin: '14px 4px 0' },
  price: { fontSize: '15px', margin: '4px 4px 0' },
  sale: { color: colors.accent, fontWeight: 600 },
  was: { color: colors.muted, textDecoration: 'line-through' },
  more: { fontSize: '14px', margin: '6px 4px 20px' },
  link: { color: colors.primary },
  footer: { backgroundColor: colors.sand, padding: '24px 0 32px', textAlign: 'center' },
  small: { fontSize: '12px', lineHeight: '1.5', color: colors.muted, margin: '10px 40px 0' },
};
const RESPONSIVE = `@media only screen and (max-width:480px){.two-up{width:50%!important}.m-top{padding-top:24px!important}}
@media (prefers-color-scheme:dark){body,.dm-surface{background-color:#1F2420!important;color:#E8E2D8!important}}`;

function Header() {
  const categories = [['kitchen', 'Kitchen'], ['home', 'Home'], ['outdoor', 'Outdoor'], ['bath', 'Bath']];
  return h(React.Fragment, null,
    h(Section, { style: styles.brand },
      h(Link, { href: SITE }, h(Img, { src: `${ASSETS}/brand/logo-light.png`, alt: 'Fernhill', width: 180, style: { margin: '0 auto' } }))),
    h(Section, { style: styles.nav },
      h(Text, { style: styles.navText }, categories.flatMap(([path, label], i) => [
        i ? ' · ' : null, h(Link, { key: path, href: `${SITE}/${path}`, style: styles.navLink }, label)]))));
}

function Hero({ firstName }) {
  return h(React.Fragment, null,
    h(Section, null, h(Link, { href: `${SITE}/edit` }, h(Img, { src: `${ASSETS}/hero/newsletter.png`, alt: 'Open shelves with ceramics, linen and a lamp', width: 600, style: { width: '100%' } }))),
    h(Section, { style: styles.hero, className: 'm-top dm-surface' },
      h(Heading, { as: 'h1', style: styles.h1 }, firstName ? `A few good things for you, ${firstName}` : 'A few good things for you'),
      h(Text, { style: styles.paragraph }, 'Heavier linens, warmer light and a few good pans: everything you need to settle in for winter.'),
      h(Button, { href: `${SITE}/edit`, style: styles.button }, 'See the edit')));
}

function Card({ product, query, domains }) {
  const url = tagUrl(product.url, query, domains);
  return h(Column, { style: styles.card, className: 'two-up' },
    h(Link, { href: url }, h(Img, { src: product.image_url, alt: product.name, width: 264, style: styles.image })),
    h(Text, { style: styles.name }, h(Link, { href: url, style: styles.link }, product.name)),
    h(Text, { style: styles.price }, product.on_sale
      ? [h('span', { key: 'sale', style: styles.sale }, product.price), ' ', h('span', { key: 'was', style: styles.was }, product.original_price)]
      : product.price),
    h(Text, { style: styles.more }, h(Link, { href: url, style: styles.link }, 'Shop now →')));
}

function Grid({ products, query, domains }) {
  const rows = [];
  for (let i = 0; i < products.length; i += 2) rows.push(products.slice(i, i + 2));
  return h(React.Fragment, null,
    h(Section, { style: styles.hero }, h(Heading, { as: 'h2', style: styles.h2 }, 'Picked for you')),
    rows.map((row, i) => h(Section, { key: i, style: styles.row },
      h(Row, null, row.map((product, j) => h(Card, { key: j, product, query, domains }))))));
}

function Footer({ context }) {
  return h(React.Fragment, null,
    h(Section, { style: { padding: '28px 0 0' } },
      h(Hr, { style: { borderColor: colors.line } }),
      h(Text, { style: { ...styles.small, fontSize: '14px', margin: '20px 56px 32px' } },
        'Questions? Write to ', h(Link, { href: 'mailto:hello@fernhill.example', style: styles.link }, 'hello@fernhill.example'), '.')),
    h(Section, { style: styles.footer },
      h(Link, { href: SITE }, h(Img, { src: `${ASSETS}/brand/logo.png`, alt: 'Fernhill', width: 110, style: { margin: '0 auto' } })),
      h(Text, { style: styles.small }, 'You receive this email because you signed up at fernhill.example.', h('br'),
        'Fernhill Goods Co. · 1120 Alder Street · Portland, OR 97205 · USA'),
      h(Text, { style: styles.small },
        h(Link, { href: context.UnsubscribeUrl, style: styles.link }, 'Unsubscribe'), ' · ',
        h(Link, { href: context.PreferencesUrl, style: styles.link }, 'Email preferences'), ' · ',
        h(Link, { href: `${SITE}/privacy`, style: styles.link }, 'Privacy')),
      h(Text, { style: styles.small }, `© ${context.Year} Fernhill`)));
}

function Email({ context, cards, query, domains }) {
  const products = cards.flatMap(([name, limit]) => (context[name] || []).slice(0, limit === null ? undefined : limit));
  return h(Html, { lang: context.Lang, dir: context.Dir },
    h(Head, null, h('title', null, context.Subject), h('style', null, RESPONSIVE)),
    h(Preview, null, context.Preheader),
    h(Body, { style: styles.body },
      h(Container, { style: styles.container },
        h(Header), h(Hero, { firstName: context.FirstName }), h(Grid, { products, query, domains }), h(Footer, { context }))));
}

const renderEmail = (recipient) => render(h(Email, {
  context: recipient.context, cards: data.cards, query: data.utm_query, domains: data.domains,
}));
serve(check, renderEmail, data.recipients);
