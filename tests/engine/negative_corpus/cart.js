// Shopping cart widget: totals, coupons and currency formatting.
'use strict';

const VERSION = '3.2.1';
const TAX_RATE = 0.0825;
const MAX_ITEMS = 99;
const THEME = { primary: '#1a73e8', danger: '#d93025', muted: '#5f6368', bg: '#ffffff' };

class Cart {
  constructor(currency = 'USD') {
    this.currency = currency;
    this.items = new Map();
    this.coupon = null;
  }

  add(sku, price, qty = 1) {
    const line = this.items.get(sku) || { sku, price, qty: 0 };
    line.qty = Math.min(MAX_ITEMS, line.qty + qty);
    this.items.set(sku, line);
    return this;
  }

  remove(sku) {
    this.items.delete(sku);
    return this;
  }

  subtotal() {
    let sum = 0;
    for (const { price, qty } of this.items.values()) sum += price * qty;
    return Math.round(sum * 100) / 100;
  }

  total() {
    const discount = this.coupon ? this.coupon.percent / 100 : 0;
    const net = this.subtotal() * (1 - discount);
    return Math.round(net * (1 + TAX_RATE) * 100) / 100;
  }

  format(amount) {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: this.currency }).format(amount);
  }
}

function applyCoupon(cart, code) {
  const coupons = { SPRING24: 10, LOYAL15: 15, WELCOME5: 5 };
  if (!(code in coupons)) throw new Error(`unknown coupon ${code}`);
  cart.coupon = { code, percent: coupons[code] };
  return cart;
}

const cart = new Cart();
cart.add('SKU-10442-BLK', 1234.5, 2).add('SKU-20931-RED', 19.99);
applyCoupon(cart, 'SPRING24');
console.log(`cart v${VERSION}: ${cart.format(cart.total())} (${cart.items.size} lines)`);
document.querySelector('.cart-total').style.color = THEME.primary;
setTimeout(() => cart.remove('SKU-20931-RED'), 1500);

module.exports = { Cart, applyCoupon, VERSION };
