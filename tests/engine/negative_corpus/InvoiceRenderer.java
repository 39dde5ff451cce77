package com.example.billing;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/** Renders invoices as plain text for the billing e-mail job. */
public final class InvoiceRenderer {
    private static final String VERSION = "4.0.17";
    private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_LOCAL_DATE;
    private static final int LINE_WIDTH = 72;
    private static final BigDecimal VAT = new BigDecimal("0.19");

    public record Line(String sku, String description, int quantity, BigDecimal unitPrice) {
        BigDecimal total() {
            return unitPrice.multiply(BigDecimal.valueOf(quantity));
        }
    }

    private final List<Line> lines = new ArrayList<>();
    private final String invoiceNumber;
    private final LocalDate issued;

    public InvoiceRenderer(String invoiceNumber, LocalDate issued) {
        this.invoiceNumber = invoiceNumber;
        this.issued = issued;
    }

    public InvoiceRenderer add(Line line) {
        lines.add(line);
        return this;
    }

    public String render() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Invoice %s issued %s%n", invoiceNumber, ISO.format(issued)));
        out.append("-".repeat(LINE_WIDTH)).append('\n');
        BigDecimal net = BigDecimal.ZERO;
        for (Line line : lines) {
            net = net.add(line.total());
            out.append(String.format(Locale.ROOT, "%-14s %-36s %4d %12s%n",
                    line.sku(), line.description(), line.quantity(), line.total().setScale(2, RoundingMode.HALF_UP)));
        }
        BigDecimal vat = net.multiply(VAT).setScale(2, RoundingMode.HALF_UP);
        out.append(String.format(Locale.ROOT, "Net %s  VAT %s  Total %s%n", net, vat, net.add(vat)));
        out.append("Renderer ").append(VERSION).append(" / run ").append(UUID.randomUUID()).append('\n');
        return out.toString();
    }

    public static void main(String[] args) {
        InvoiceRenderer r = new InvoiceRenderer("INV-2024-000123", LocalDate.of(2024, 3, 14));
        r.add(new Line("SKU-10442-BLK", "Standing desk frame", 2, new BigDecimal("1234.50")));
        r.add(new Line("SKU-20931-RED", "Cable tray", 5, new BigDecimal("19.99")));
        System.out.print(r.render());
    }
}
