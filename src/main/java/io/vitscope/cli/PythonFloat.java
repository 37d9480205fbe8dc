package io.vitscope.cli;

import java.math.BigDecimal;

/**
 * A float printed as Python's {@code repr} prints it, so that vitscope's output reads like the tutorial's
 * ({@code alp<TAB>0.7936609983444214}, {@code 5.3997919167159125e-05}): the shortest digits that round-trip, in
 * positional notation for decimal exponents from -4 to 15 and in scientific notation otherwise.
 */
final class PythonFloat {

    private PythonFloat() {}

    static String repr(double v) {
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        if (v == 0) {
            return (1 / v < 0) ? "-0.0" : "0.0";
        }
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
        int exponent = d.precision() - d.scale() - 1;            // the decimal exponent of the leading digit
        if (exponent >= -4 && exponent < 16) {
            String s = d.toPlainString();
            return s.contains(".") ? s : s + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (v < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
