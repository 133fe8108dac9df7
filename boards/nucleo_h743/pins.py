"""NUCLEO-H743ZI2 pin and UART map of the MeterCom reference build (ST UM2407; MicroPython's NUCLEO_H743ZI2 board)."""
# Pins by their STM32 names (PD5 is port D, pin 5). The connector column is
# the Nucleo's ZIO/Arduino label from MicroPython's pins.csv for this board
# (D53 on CN9 ...) or its on-board part. UART ids are MicroPython's: the
# board definition enables UART2, 3, 5, 6, 7 and 8 (NUCLEO_H743ZI
# mpconfigboard.h); UART3 is the ST-LINK virtual COM port and MicroPython's
# REPL, UART8 would take PE1, the yellow LED. That leaves exactly four, one
# each for the modem, RS-485, the WM-Bus radio and the meter, none on an
# Ethernet RMII pin.

# role, UART id, TX, RX, RTS, CTS, baud rate at start, connector labels
UARTS = (
    ("modem", 2, "PD5", "PD6", "PD4", "PD3", 115200, "D53 D52 D54 D55"),  # Telit HE910/GE910 ASC0, with hardware flow control
    ("rs485", 6, "PC6", "PC7", None, None, 9600, "D16 D21"),  # RS-485 transceiver DI/RO; DE below
    ("wmbus", 7, "PF7", "PF6", None, None, 9600, "D62 A8"),  # Wireless M-Bus radio module's serial port
    ("meter", 5, "PB6", "PB12", None, None, 300, "D1 D19"),  # E350 internal connector; IEC 62056-21 starts at 300 7E1
)

# The data flash: W25Q128JV on SPI3 (MicroPython's SPI3 pins for this board).
SPI_ID = 3
SPI_PINS = (("SCK", "PB3", "D23"), ("MISO", "PB4", "D25"), ("MOSI", "PB5", "D22"))
SPI_BAUD = 25000000  # 100 MHz kernel clock / 4; the 03h read allows 50 MHz

# name, pin, direction, active level, connector, what it drives or reads
OUT = "out"
IN = "in"
PINS = (
    ("FLASH_CS", "PA4", OUT, 0, "D24", "W25Q128JV /CS"),
    ("RS485_DE", "PB15", OUT, 1, "D17", "RS-485 transceiver DE and /RE: high while sending"),
    ("MODEM_ON", "PG14", OUT, 1, "D2", "Telit ON_OFF* through a transistor: high presses it"),
    ("MODEM_RESET", "PE14", OUT, 1, "D4", "Telit HW_SHUTDOWN* through a transistor: high holds it"),
    ("MODEM_PWRMON", "PG12", IN, 1, "D7", "Telit PWRMON: high while the modem is on"),
    ("WMBUS_RESET", "PF8", OUT, 0, "D61", "radio module /RESET"),
    ("WMBUS_CONFIG", "PF9", OUT, 0, "D63", "radio module /CONFIG (command mode)"),
    ("RE1", "PE9", OUT, 1, "D6", "relay 1 coil driver"),
    ("RE2", "PE11", OUT, 1, "D5", "relay 2 coil driver"),
    ("BREAKER", "PE13", OUT, 1, "D3", "breaker (disconnector) coil driver"),
    ("BUTTON", "PC13", IN, 1, "B1 USER", "breaker manual control button (pressed reads high)"),
    ("LED_PWR", "PB0", OUT, 1, "LD1 green", "PWR"),
    ("LED_SIM_ERR", "PE2", OUT, 1, "D31", "SIM ERR"),
    ("LED_GSM_ERR", "PE4", OUT, 1, "D57", "GSM ERR"),
    ("LED_SIGNAL", "PE5", OUT, 1, "D58", "SIGNAL"),
    ("LED_CONN", "PE1", OUT, 1, "LD2 yellow", "CONN"),
    ("LED_SYS", "PE6", OUT, 1, "D59", "SYS"),
    ("LED_METER", "PE7", OUT, 1, "D41", "METER"),
    ("LED_DISCONN", "PB14", OUT, 1, "LD3 red", "DISCONN"),
    ("LED_RE1", "PE8", OUT, 1, "D42", "RE 1"),
    ("LED_RE2", "PE10", OUT, 1, "D40", "RE 2"),
)

# The manual's ten LEDs, in its order (3.2).
LEDS = ("PWR", "SIM_ERR", "GSM_ERR", "SIGNAL", "CONN", "SYS", "METER", "DISCONN", "RE1", "RE2")

# Taken by the Nucleo itself: never given a role above.
RESERVED = (
    ("PA1", "ETH RMII REF_CLK"),
    ("PA2", "ETH MDIO"),
    ("PA7", "ETH RMII CRS_DV"),
    ("PC1", "ETH MDC"),
    ("PC4", "ETH RMII RXD0"),
    ("PC5", "ETH RMII RXD1"),
    ("PG11", "ETH RMII TX_EN"),
    ("PG13", "ETH RMII TXD0"),
    ("PB13", "ETH RMII TXD1"),
    ("PD8", "UART3 TX: ST-LINK virtual COM port, REPL"),
    ("PD9", "UART3 RX: ST-LINK virtual COM port, REPL"),
    ("PA13", "SWDIO"),
    ("PA14", "SWCLK"),
    ("PC14", "LSE 32.768 kHz crystal X2"),
    ("PC15", "LSE 32.768 kHz crystal X2"),
    ("PH0", "HSE: 8 MHz from the ST-LINK's MCO"),
    ("PH1", "HSE"),
    ("PA9", "USB OTG FS VBUS"),
    ("PA10", "USB OTG FS ID"),
    ("PA11", "USB OTG FS D-"),
    ("PA12", "USB OTG FS D+"),
    ("PD10", "USB OTG FS power switch"),
    ("PG7", "USB OTG FS overcurrent"),
    ("PG2", "SD card detect (MicroPython's SD card driver pulls it up)"),
    ("PC8", "SDMMC D0"),
    ("PC9", "SDMMC D1"),
    ("PC10", "SDMMC D2"),
    ("PC11", "SDMMC D3"),
    ("PC12", "SDMMC CK"),
    ("PD2", "SDMMC CMD"),
)

WDT_MS = 8000  # the IWDG runs from the 32 kHz LSI: up to 32 s
RTC_MARK_REG = 19  # RTC_BKP19R holds the RTC-valid mark (hal/stm32rtc.py)
