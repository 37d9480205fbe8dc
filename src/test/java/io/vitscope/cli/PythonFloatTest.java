package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Expected strings are what CPython 3.11 prints for repr(float(x)) of the same doubles. */
class PythonFloatTest {

    @ParameterizedTest
    @CsvSource({
        "0.7936609983444214, 0.7936609983444214",
        "9.923761244863272E-4, 0.0009923761244863272",
        "5.3997919167159125E-5, 5.3997919167159125e-05",
        "1.0, 1.0",
        "1e16, 1e+16",
        "123456789012345.0, 123456789012345.0",
        "0.0001, 0.0001",
        "-2.5E-7, -2.5e-07"})
    void printsLikePythonRepr(double value, String python) {
        assertEquals(python, PythonFloat.repr(value));
    }
}
